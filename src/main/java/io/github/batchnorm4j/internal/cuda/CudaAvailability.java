package io.github.batchnorm4j.internal.cuda;

/**
 * The outcome of probing for a working CUDA device, once per JVM: whether the CUDA backend can
 * run, and a one-line reason (the device, or what failed). The probe itself lives in
 * {@link CudaContext}, the only class that touches JCuda, and is loaded only here, inside a
 * catch-all: a machine without the driver sees an explanation, never a linkage error.
 */
public final class CudaAvailability {
    private static volatile CudaAvailability result;

    public final boolean available;
    public final String reason;
    public final CudaContext context; // null when not available

    private CudaAvailability(boolean available, String reason, CudaContext context) {
        this.available = available;
        this.reason = reason;
        this.context = context;
    }

    public static CudaAvailability get() {
        CudaAvailability local = result;
        if (local == null) {
            synchronized (CudaAvailability.class) {
                local = result;
                if (local == null) {
                    local = probe();
                    result = local;
                }
            }
        }
        return local;
    }

    private static CudaAvailability probe() {
        try {
            CudaContext context = CudaContext.open();
            return new CudaAvailability(true, context.description(), context);
        } catch (LinkageError e) {
            // UnsatisfiedLinkError without libcuda.so.1, NoClassDefFoundError on a later touch.
            return new CudaAvailability(false, "JCuda's native library could not load (" + e.getClass().getSimpleName()
                    + ": " + firstLine(e.getMessage()) + "); is the NVIDIA driver installed?", null);
        } catch (RuntimeException e) {
            return new CudaAvailability(false, firstLine(e.getMessage()), null);
        }
    }

    private static String firstLine(String text) {
        if (text == null) {
            return "no message";
        }
        int newline = text.indexOf('\n');
        return newline < 0 ? text : text.substring(0, newline);
    }
}
