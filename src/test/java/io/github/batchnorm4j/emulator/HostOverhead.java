package io.github.batchnorm4j.emulator;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamQuery;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.bench.BenchCase;
import io.github.batchnorm4j.emulator.CostModel.Op;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * {@code bn4j gpu-model --host-overhead}: host microseconds per device-API call with the kernels'
 * execution excluded. The emulated driver counts and checks each launch but runs no kernel
 * ({@link EmulatedGpu#executeKernels}), so the time is the library's host code plus JCuda plus
 * the stub driver's own round trip, which is printed beside it (a bare cuStreamQuery) so a reader
 * can take it off: on a real driver a launch costs its own few microseconds instead. Measured on
 * this machine, not modeled. Started by scripts/gpu-model with the stub driver.
 */
public final class HostOverhead {
    private static final int WARM_UP_CALLS = 20_000;
    private static final int CALLS_PER_ROUND = 5_000;
    private static final int ROUNDS = 7;

    private HostOverhead() {
    }

    public static void main(String[] args) {
        System.setProperty("batchnorm4j.backend", "cuda");
        EmulatedGpu gpu = EmulatedGpu.get();
        CUstream stream = new CUstream();
        cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
        double stubMicros = medianMicros(() -> cuStreamQuery(stream));
        List<String> rows = new ArrayList<>();
        for (BenchCase c : BenchCase.standard()) {
            GpuModel.ModelCase modeled = GpuModel.scaled(c); // the host code's work does not grow with N
            Shape shape = modeled.run().shape();
            long bytes = 4L * shape.elementCount();
            CUdeviceptr x = new CUdeviceptr();
            CUdeviceptr dy = new CUdeviceptr();
            CUdeviceptr out = new CUdeviceptr();
            cuMemAlloc(x, bytes);
            cuMemAlloc(dy, bytes);
            cuMemAlloc(out, bytes);
            float[] values = new float[Math.toIntExact(shape.elementCount())];
            Arrays.fill(values, 0.5f);
            values[0] = 2; // a variance above zero
            cuMemcpyHtoD(x, Pointer.to(values), bytes);
            cuMemcpyHtoD(dy, Pointer.to(values), bytes);
            try (BatchNorm layer = BatchNorm.builder(shape.channels()).build()) {
                if (!layer.backendName().equals("cuda")) {
                    throw new IllegalStateException("the layer is not on the emulated GPU: " + BatchNormRuntime.backendReport());
                }
                // Real kernels once, so the layer's state is a trained layer's, then the counting driver.
                if (!c.inferenceOnly()) {
                    layer.device().forwardTraining(shape, x, out, stream);
                }
                gpu.executeKernels(false);
                try {
                    for (Op op : c.inferenceOnly() ? List.of(Op.INFERENCE) : List.of(Op.values())) {
                        Runnable call = switch (op) {
                            case TRAIN_FORWARD -> () -> layer.device().forwardTraining(shape, x, out, stream);
                            case INFERENCE -> () -> layer.device().forwardInference(shape, x, out, stream);
                            case BACKWARD -> () -> layer.device().backward(shape, x, dy, out, stream);
                        };
                        double micros = medianMicros(call);
                        EmulatedGpu.Counters before = gpu.counters();
                        call.run(); // in steady state, as timed
                        EmulatedGpu.Counters one = gpu.counters().minus(before);
                        rows.add(String.format(Locale.ROOT, "%-24s %-14s %5d %5d %6d %10.2f %10.2f",
                                c.label() + (modeled.scaledFrom() == null ? "" : "*"), op.key(), one.launches(),
                                one.synchronizations(), one.hostToDevice() + one.deviceToHost() + one.memsets(),
                                micros, micros - one.launches() * stubMicros));
                    }
                } finally {
                    gpu.executeKernels(true);
                }
            } finally {
                cuMemFree(x);
                cuMemFree(dy);
                cuMemFree(out);
            }
        }
        cuStreamDestroy(stream);
        System.out.println("host-overhead: MEASURED on this machine (" + Runtime.getRuntime().availableProcessors()
                + " CPUs, Java " + Runtime.version() + "): host time of one device-API call on its own stream,");
        System.out.println("kernels not executed (the emulated driver counts and checks each launch only); median of "
                + ROUNDS + " rounds of " + CALLS_PER_ROUND + " calls after " + WARM_UP_CALLS + " warm-up calls.");
        System.out.printf(Locale.ROOT, "stub driver round trip (bare cuStreamQuery through JCuda, JNI and the emulator): "
                + "%.2f us%n", stubMicros);
        System.out.printf(Locale.ROOT, "%-24s %-14s %5s %5s %6s %10s %10s%n", "shape", "op", "lnch", "sync", "copies",
                "us/call", "-stub");
        rows.forEach(System.out::println);
        System.out.println("* run at gpu-model's N cut (the host code does the same work whatever N is).");
        System.out.println("-stub: us/call less one stub round trip per launch, the part that is the library and JCuda.");
        if (gpu.faultCount() > 0) {
            System.err.println("the emulator found " + gpu.faultCount() + " defects (printed above)");
            System.exit(1);
        }
    }

    private static double medianMicros(Runnable call) {
        for (int i = 0; i < WARM_UP_CALLS; i++) {
            call.run();
        }
        double[] rounds = new double[ROUNDS];
        for (int r = 0; r < ROUNDS; r++) {
            long start = System.nanoTime();
            for (int i = 0; i < CALLS_PER_ROUND; i++) {
                call.run();
            }
            rounds[r] = (System.nanoTime() - start) / 1e3 / CALLS_PER_ROUND;
        }
        Arrays.sort(rounds);
        return rounds[ROUNDS / 2];
    }
}
