package io.github.batchnorm4j.internal.cuda;

import static jcuda.driver.JCudaDriver.cuCtxSynchronize;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuStreamWaitEvent;

import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

/**
 * Orders a layer's call after its previous call when the two run on different streams: one
 * layer's calls share its workspace (partials, parameters, scratch, the last-block counter), and
 * work on two streams is unordered unless an event orders it. The first call on a new stream
 * records an event on the previous stream and makes the new one wait for it; calls that stay on
 * one stream cost nothing. Another thread's per-thread default stream cannot be named from this
 * thread, and a stream the caller destroyed cannot be recorded: the context is synchronized
 * then (rare, and correct).
 */
final class StreamHandOff implements AutoCloseable {
    private CUstream previous;
    private Thread previousThread;
    private CUevent event;

    /** {@code stream}, ordered after the work of this layer's previous call. */
    CUstream onto(CUstream stream) {
        Thread thread = Thread.currentThread();
        if (previous != null && !sameStream(previous, previousThread, stream, thread)) {
            waitForPrevious(stream, thread);
        }
        previous = stream;
        previousThread = thread;
        return stream;
    }

    /** The device finished everything (a context synchronization): nothing is left to order after. */
    void idle() {
        previous = null;
        previousThread = null;
    }

    private static boolean sameStream(CUstream a, Thread aThread, CUstream b, Thread bThread) {
        return a.equals(b) && (!a.equals(JCudaDriver.CU_STREAM_PER_THREAD) || aThread == bThread);
    }

    private void waitForPrevious(CUstream stream, Thread thread) {
        if (previous.equals(JCudaDriver.CU_STREAM_PER_THREAD) && previousThread != thread) {
            CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize", "after another thread's per-thread stream");
            return;
        }
        if (event == null) {
            CUevent created = new CUevent();
            CudaCalls.check(cuEventCreate(created, CUevent_flags.CU_EVENT_DISABLE_TIMING), "cuEventCreate");
            event = created;
        }
        int recorded = cuEventRecord(event, previous);
        if (recorded == CUresult.CUDA_ERROR_INVALID_HANDLE) { // the caller destroyed the previous stream
            CudaCalls.check(cuCtxSynchronize(), "cuCtxSynchronize", "after a destroyed stream");
            return;
        }
        CudaCalls.check(recorded, "cuEventRecord");
        CudaCalls.check(cuStreamWaitEvent(stream, event, 0), "cuStreamWaitEvent");
    }

    @Override
    public void close() {
        if (event != null) {
            CUevent destroyed = event;
            event = null;
            CudaCalls.check(cuEventDestroy(destroyed), "cuEventDestroy");
        }
    }
}
