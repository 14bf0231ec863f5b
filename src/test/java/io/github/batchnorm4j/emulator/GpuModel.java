package io.github.batchnorm4j.emulator;

import static jcuda.driver.JCudaDriver.cuMemAlloc;
import static jcuda.driver.JCudaDriver.cuMemFree;
import static jcuda.driver.JCudaDriver.cuMemcpyHtoD;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;

import io.github.batchnorm4j.BatchNormRuntime;
import io.github.batchnorm4j.BatchNorm;
import io.github.batchnorm4j.Shape;
import io.github.batchnorm4j.bench.BenchCase;
import io.github.batchnorm4j.emulator.CostModel.Op;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;

/**
 * {@code bn4j gpu-model}: runs each operation once, in steady state, on the emulated GPU through
 * the production host code, and reports what the launches did and what the cost model makes of
 * it (design.md, 'Cost model'). By default the bench shapes, each with N cut until it has at most
 * {@link #MAX_ELEMENTS} elements (the interpreter runs about 10^8 instructions a second); the
 * record then says which shape it stands for. Started by scripts/gpu-model with the stub driver.
 */
public final class GpuModel {
    static final long MAX_ELEMENTS = 1L << 20;

    /** One shape to model, and the bench shape it stands for (null when it is that shape). */
    record ModelCase(BenchCase run, BenchCase scaledFrom) {
    }

    /** One operation's call, as the emulator counted it. */
    record CallRecord(Op op, ModelCase modelCase, String api, EmulatedGpu.Counters counters,
            List<EmulatedGpu.LaunchRecord> launches) {
        Shape shape() {
            return modelCase.run().shape();
        }

        long dramBytes() {
            return 32 * launches.stream().mapToLong(EmulatedGpu.LaunchRecord::dramSectors).sum();
        }

        long sum(java.util.function.ToLongFunction<LaunchStatistics> field) {
            return launches.stream().mapToLong(l -> field.applyAsLong(l.statistics())).sum();
        }

        double sectorEfficiency() {
            long sectors = sum(LaunchStatistics::globalRequestSectors);
            return sectors == 0 ? 1 : sum(LaunchStatistics::globalRequestBytes) / (32.0 * sectors);
        }

        double perElement(java.util.function.ToLongFunction<LaunchStatistics> field) {
            return (double) sum(field) / shape().elementCount();
        }
    }

    private GpuModel() {
    }

    public static void main(String[] args) throws IOException {
        Path json = null;
        List<BenchCase> shapes = new ArrayList<>();
        List<String> apis = List.of("host", "device");
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            boolean hasValue = i + 1 < args.length;
            if (arg.equals("--json") && hasValue) {
                json = Path.of(args[++i]);
            } else if (arg.equals("--shape") && hasValue) {
                shapes.add(BenchCase.parse(args[++i]));
            } else if (arg.equals("--api") && hasValue) {
                String api = args[++i];
                if (!api.equals("host") && !api.equals("device") && !api.equals("both")) {
                    throw new IllegalArgumentException("--api must be host, device or both, got " + api);
                }
                apis = api.equals("both") ? apis : List.of(api);
            } else {
                System.err.println("usage: bn4j gpu-model [--json FILE] [--shape LAYOUT:SIZES[/inference] ...] "
                        + "[--api host|device|both]\n(unknown or incomplete argument: " + arg + ")");
                System.exit(2);
            }
        }
        System.setProperty("batchnorm4j.backend", "cuda");
        List<ModelCase> cases = new ArrayList<>();
        for (BenchCase c : shapes.isEmpty() ? BenchCase.standard() : shapes) {
            cases.add(shapes.isEmpty() ? scaled(c) : new ModelCase(c, null));
        }
        List<CallRecord> records = new ArrayList<>();
        for (ModelCase c : cases) {
            for (String api : apis) {
                for (Op op : ops(c.run())) {
                    records.add(model(op, c, api));
                    System.err.printf(Locale.ROOT, "modeled %s %s %s%n", c.run().label(), api, op.key());
                }
            }
        }
        printTable(records, System.out);
        if (json != null) {
            Files.writeString(json, GpuModelJson.of(records));
            System.out.println("modeled records written to " + json);
        }
        if (EmulatedGpu.get().faultCount() > 0) {
            System.err.println("the emulator found " + EmulatedGpu.get().faultCount() + " defects (printed above)");
            System.exit(1);
        }
    }

    /** The bench case with N halved until it has at most {@link #MAX_ELEMENTS} elements (N at least 1). */
    static ModelCase scaled(BenchCase c) {
        int[] sizes = c.sizes().clone();
        while ((long) sizes[0] * c.shape().elementCount() / c.sizes()[0] > MAX_ELEMENTS && sizes[0] > 1) {
            sizes[0] = (sizes[0] + 1) / 2;
        }
        if (sizes[0] == c.sizes()[0]) {
            return new ModelCase(c, null);
        }
        BenchCase run = new BenchCase(c.layout(), sizes, c.inferenceOnly());
        if (!c.inferenceOnly() && run.shape().valuesPerChannel() < 2) {
            sizes[0] = 2;
            run = new BenchCase(c.layout(), sizes, false);
        }
        return new ModelCase(run, c);
    }

    private static List<Op> ops(BenchCase c) {
        return c.inferenceOnly() ? List.of(Op.INFERENCE) : List.of(Op.values());
    }

    /**
     * Builds a CUDA layer, runs a training step and one call of the operation to reach steady state
     * (buffers at their size), then counts the next call of it alone.
     */
    static CallRecord model(Op op, ModelCase c, String api) {
        Shape shape = c.run().shape();
        int count = Math.toIntExact(shape.elementCount());
        Random random = new Random(count);
        float[] x = new float[count];
        float[] dy = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = (float) (3 + 2 * random.nextGaussian());
            dy[i] = (float) random.nextGaussian();
        }
        float[] out = new float[count];
        EmulatedGpu gpu = EmulatedGpu.get();
        try (BatchNorm layer = BatchNorm.builder(shape.channels()).build()) {
            if (!layer.backendName().equals("cuda")) {
                throw new IllegalStateException("the layer is not on the emulated GPU: " + BatchNormRuntime.backendReport());
            }
            Runnable call;
            CUdeviceptr[] device = null;
            CUstream stream = null;
            if (api.equals("host")) {
                call = switch (op) {
                    case TRAIN_FORWARD -> () -> layer.forwardTraining(shape, x, out);
                    case INFERENCE -> () -> layer.forwardInference(shape, x, out);
                    case BACKWARD -> () -> layer.backward(shape, x, dy, out);
                };
            } else {
                device = new CUdeviceptr[] {new CUdeviceptr(), new CUdeviceptr(), new CUdeviceptr()};
                for (CUdeviceptr p : device) {
                    cuMemAlloc(p, 4L * count);
                }
                cuMemcpyHtoD(device[0], Pointer.to(x), 4L * count);
                cuMemcpyHtoD(device[1], Pointer.to(dy), 4L * count);
                stream = new CUstream();
                cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
                CUdeviceptr dx = device[0], ddy = device[1], dout = device[2];
                CUstream s = stream;
                call = switch (op) {
                    case TRAIN_FORWARD -> () -> layer.device().forwardTraining(shape, dx, dout, s);
                    case INFERENCE -> () -> layer.device().forwardInference(shape, dx, dout, s);
                    case BACKWARD -> () -> layer.device().backward(shape, dx, ddy, dout, s);
                };
            }
            try {
                if (!c.run().inferenceOnly()) {
                    layer.forwardTraining(shape, x, out);
                }
                call.run();
                if (op == Op.BACKWARD) { // the counted backward follows a training forward, as in training
                    layer.forwardTraining(shape, x, out);
                }
                int firstLaunch = gpu.launches().size();
                EmulatedGpu.Counters before = gpu.counters();
                call.run();
                EmulatedGpu.Counters counted = gpu.counters().minus(before);
                List<EmulatedGpu.LaunchRecord> all = gpu.launches();
                return new CallRecord(op, c, api, counted, List.copyOf(all.subList(firstLaunch, all.size())));
            } finally {
                if (device != null) {
                    for (CUdeviceptr p : device) {
                        cuMemFree(p);
                    }
                    cuStreamDestroy(stream);
                }
            }
        }
    }

    private static void printTable(List<CallRecord> records, PrintStream out) {
        out.println("gpu-model: MODELED on an H200 SXM (4.8 TB/s, 132 SMs x 4 schedulers at 1.98 GHz, "
                + (int) (CostModel.LAUNCH_SECONDS * 1e6) + " us per launch) from one call on the emulated GPU;");
        out.println("nothing here is measured. dram/floor: distinct 32-byte sectors per launch over the bytes "
                + "the op must move (design.md, 'Cost model').");
        out.printf(Locale.ROOT, "%-24s %-13s %-6s %4s %4s %4s %4s %10s %6s %6s %7s %7s %10s%n", "shape (modeled)",
                "op", "api", "lnch", "sync", "h2d", "d2h", "dram MB", "/floor", "sector", "div/el", "inst/el",
                "modeled us");
        for (CallRecord r : records) {
            String label = r.modelCase().run().label() + (r.modelCase().scaledFrom() == null ? "" : "*");
            out.printf(Locale.ROOT, "%-24s %-13s %-6s %4d %4d %4d %4d %10.3f %6.2f %6.3f %7.2f %7.1f %10.2f%n",
                    label, r.op().key(), r.api(), r.counters().launches(), r.counters().synchronizations(),
                    r.counters().hostToDevice(), r.counters().deviceToHost(), r.dramBytes() / 1e6,
                    (double) r.dramBytes() / CostModel.floorBytes(r.op(), r.shape()), r.sectorEfficiency(),
                    r.perElement(LaunchStatistics::integerDivisions), r.perElement(LaunchStatistics::instructions),
                    1e6 * CostModel.seconds(r.launches()));
        }
        if (records.stream().anyMatch(r -> r.modelCase().scaledFrom() != null)) {
            out.println("* N cut from the bench shape's (it would take too long under the interpreter): "
                    + "times and bytes are of the shape shown; per-element figures approximate the bench shape's.");
        }
    }
}
