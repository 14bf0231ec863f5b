/*
 * A stand-in for the NVIDIA driver (libcuda.so.1) for the tests: JCuda's own native library binds
 * to it as it would to the real driver, and every call it makes is forwarded over JNI to
 * io.github.batchnorm4j.emulator.EmulatedDriver, which keeps the device memory and runs kernels
 * in its PTX interpreter. Only the functions batchnorm4j and its tests call are here: JCuda binds
 * its cu* imports lazily, so a function nobody calls need not exist.
 *
 * Convention: every Java method returns a long; a negative value is minus a CUresult error code,
 * anything else is the call's result (an address, a handle, a count) or 0.
 *
 * The emulator fork runs with Shenandoah, which pins the arrays JCuda holds with
 * GetPrimitiveArrayCritical instead of locking out the collector, so the Java code these calls
 * reach may allocate while JCuda holds a host array (design.md, "The GPU emulator"). The calls a
 * layer makes in steady state allocate nothing on the caller's thread, as with the real driver.
 *
 * Built by the test phase: gcc -shared -fPIC -Wl,-soname,libcuda.so.1 (see pom.xml).
 */
#include <dlfcn.h>
#include <jni.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef void *CUcontext;
typedef void *CUmodule;
typedef void *CUfunction;
typedef void *CUstream;
typedef void *CUevent;
typedef void *CUgraph;
typedef void *CUgraphExec;

enum {
    CUDA_SUCCESS = 0,
    CUDA_ERROR_INVALID_VALUE = 1,
    CUDA_ERROR_OUT_OF_MEMORY = 2,
    CUDA_ERROR_NOT_INITIALIZED = 3,
    CUDA_ERROR_NO_DEVICE = 100,
    CUDA_ERROR_NOT_SUPPORTED = 801,
    CUDA_ERROR_UNKNOWN = 999
};

/* cuda.h's values for cuLaunchKernel's extra array. */
#define CU_LAUNCH_PARAM_END ((void *)0x00)
#define CU_LAUNCH_PARAM_BUFFER_POINTER ((void *)0x01)
#define CU_LAUNCH_PARAM_BUFFER_SIZE ((void *)0x02)

static const char *DRIVER_CLASS = "io/github/batchnorm4j/emulator/EmulatedDriver";

static JavaVM *vm;
static jclass driver;

/* The JVM this library lives in: found through libjvm, which the java launcher has loaded. */
static JavaVM *find_vm(void) {
    if (vm != NULL) {
        return vm;
    }
    void *jvm = dlopen("libjvm.so", RTLD_LAZY | RTLD_NOLOAD);
    if (jvm == NULL) {
        return NULL;
    }
    jint (*created)(JavaVM **, jsize, jsize *) = (jint(*)(JavaVM **, jsize, jsize *))dlsym(jvm, "JNI_GetCreatedJavaVMs");
    JavaVM *found = NULL;
    jsize count = 0;
    if (created == NULL || created(&found, 1, &count) != JNI_OK || count < 1) {
        return NULL;
    }
    vm = found;
    return vm;
}

/* The calling thread's JNIEnv with the driver class resolved, or NULL (then the call fails). */
static JNIEnv *java(void) {
    JavaVM *machine = find_vm();
    JNIEnv *env = NULL;
    if (machine == NULL || (*machine)->GetEnv(machine, (void **)&env, JNI_VERSION_1_8) != JNI_OK) {
        fprintf(stderr, "libcuda stub: no JVM on this thread\n");
        return NULL;
    }
    if (driver == NULL) {
        jclass local = (*env)->FindClass(env, DRIVER_CLASS);
        if (local == NULL) {
            (*env)->ExceptionDescribe(env);
            (*env)->ExceptionClear(env);
            fprintf(stderr, "libcuda stub: %s is not on the class path\n", DRIVER_CLASS);
            return NULL;
        }
        driver = (jclass)(*env)->NewGlobalRef(env, local);
    }
    return env;
}

static jmethodID method(JNIEnv *env, const char *name, const char *signature) {
    jmethodID id = (*env)->GetStaticMethodID(env, driver, name, signature);
    if (id == NULL) {
        (*env)->ExceptionDescribe(env);
        (*env)->ExceptionClear(env);
        fprintf(stderr, "libcuda stub: EmulatedDriver.%s%s is missing\n", name, signature);
    }
    return id;
}

/* A Java exception is a bug of the emulator: print it and fail the call with CUDA_ERROR_UNKNOWN. */
static int thrown(JNIEnv *env) {
    if ((*env)->ExceptionCheck(env)) {
        (*env)->ExceptionDescribe(env);
        (*env)->ExceptionClear(env);
        return 1;
    }
    return 0;
}

/* Calls a static long method with up to eight long arguments; the method's signature decides. */
#define CALL(result, name, signature, ...)                                            \
    do {                                                                              \
        JNIEnv *env_ = java();                                                        \
        if (env_ == NULL) {                                                           \
            return CUDA_ERROR_NOT_INITIALIZED;                                        \
        }                                                                             \
        static jmethodID id_;                                                         \
        if (id_ == NULL && (id_ = method(env_, name, signature)) == NULL) {           \
            return CUDA_ERROR_UNKNOWN;                                                \
        }                                                                             \
        result = (*env_)->CallStaticLongMethod(env_, driver, id_, __VA_ARGS__);       \
        if (thrown(env_)) {                                                           \
            return CUDA_ERROR_UNKNOWN;                                                \
        }                                                                             \
        if (result < 0) {                                                             \
            return (CUresult)(-result);                                               \
        }                                                                             \
    } while (0)


/* ---- initialization and devices ---- */

CUresult cuInit(unsigned int flags) {
    jlong r;
    CALL(r, "init", "(J)J", (jlong)flags);
    return CUDA_SUCCESS;
}

CUresult cuDriverGetVersion(int *version) {
    jlong r;
    CALL(r, "driverVersion", "(J)J", (jlong)0);
    *version = (int)r;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
    jlong r;
    CALL(r, "deviceCount", "(J)J", (jlong)0);
    *count = (int)r;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
    jlong r;
    CALL(r, "device", "(J)J", (jlong)ordinal);
    *device = (CUdevice)r;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
    jlong r;
    CALL(r, "deviceAttribute", "(JJ)J", (jlong)attribute, (jlong)device);
    *value = (int)r;
    return CUDA_SUCCESS;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
    jlong r;
    CALL(r, "deviceTotalMemory", "(J)J", (jlong)device);
    *bytes = (size_t)r;
    return CUDA_SUCCESS;
}

CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
    JNIEnv *env = java();
    if (env == NULL) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    if (name == NULL || length <= 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    static jmethodID id;
    if (id == NULL && (id = method(env, "deviceName", "(J)Ljava/lang/String;")) == NULL) {
        return CUDA_ERROR_UNKNOWN;
    }
    jstring text = (jstring)(*env)->CallStaticObjectMethod(env, driver, id, (jlong)device);
    if (thrown(env) || text == NULL) {
        return CUDA_ERROR_UNKNOWN;
    }
    const char *chars = (*env)->GetStringUTFChars(env, text, NULL);
    strncpy(name, chars, (size_t)length - 1);
    name[length - 1] = '\0';
    (*env)->ReleaseStringUTFChars(env, text, chars);
    return CUDA_SUCCESS;
}

/* ---- contexts ---- */

CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
    jlong r;
    CALL(r, "primaryContextRetain", "(J)J", (jlong)device);
    *context = (CUcontext)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
    jlong r;
    CALL(r, "primaryContextRelease", "(J)J", (jlong)device);
    return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext context) {
    jlong r;
    CALL(r, "contextSetCurrent", "(J)J", (jlong)(intptr_t)context);
    return CUDA_SUCCESS;
}

CUresult cuCtxGetCurrent(CUcontext *context) {
    jlong r;
    CALL(r, "contextGetCurrent", "(J)J", (jlong)0);
    *context = (CUcontext)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuCtxSynchronize(void) {
    jlong r;
    CALL(r, "contextSynchronize", "(J)J", (jlong)0);
    return CUDA_SUCCESS;
}

/* ---- modules ---- */

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
    if (module == NULL || image == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    JNIEnv *env = java();
    if (env == NULL) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    jlong r;
    CALL(r, "moduleLoad", "(JJ)J", (jlong)(intptr_t)image, (jlong)strlen((const char *)image));
    *module = (CUmodule)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule module) {
    jlong r;
    CALL(r, "moduleUnload", "(J)J", (jlong)(intptr_t)module);
    return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule module, const char *name) {
    if (function == NULL || name == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    JNIEnv *env = java();
    if (env == NULL) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    jstring symbol = (*env)->NewStringUTF(env, name);
    jlong r;
    CALL(r, "moduleGetFunction", "(JLjava/lang/String;)J", (jlong)(intptr_t)module, symbol);
    *function = (CUfunction)(intptr_t)r;
    return CUDA_SUCCESS;
}

/* ---- memory ---- */

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
    if (pointer == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "memAlloc", "(J)J", (jlong)bytes);
    *pointer = (CUdeviceptr)r;
    return CUDA_SUCCESS;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
    jlong r;
    CALL(r, "memFree", "(J)J", (jlong)pointer);
    return CUDA_SUCCESS;
}

CUresult cuMemGetInfo_v2(size_t *free_bytes, size_t *total_bytes) {
    jlong r;
    CALL(r, "memFreeBytes", "(J)J", (jlong)0);
    jlong total;
    CALL(total, "deviceTotalMemory", "(J)J", (jlong)0);
    if (free_bytes != NULL) {
        *free_bytes = (size_t)r;
    }
    if (total_bytes != NULL) {
        *total_bytes = (size_t)total;
    }
    return CUDA_SUCCESS;
}

CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size, CUdeviceptr pointer) {
    jlong r;
    CALL(r, "allocationBase", "(J)J", (jlong)pointer);
    jlong bytes;
    CALL(bytes, "allocationSize", "(J)J", (jlong)pointer);
    if (base != NULL) {
        *base = (CUdeviceptr)r;
    }
    if (size != NULL) {
        *size = (size_t)bytes;
    }
    return CUDA_SUCCESS;
}

/* The calls without a stream (synchronous: 1) are told apart from *Async calls on stream 0: they
   block the host, and a stream capture refuses them. */
enum { ASYNC = 0, SYNCHRONOUS = 1 };

static CUresult memset8(CUdeviceptr pointer, unsigned char value, size_t count, CUstream stream, int synchronous) {
    jlong r;
    CALL(r, "memset8", "(JJJJJ)J", (jlong)pointer, (jlong)value, (jlong)count, (jlong)(intptr_t)stream,
         (jlong)synchronous);
    return CUDA_SUCCESS;
}

CUresult cuMemsetD8_v2(CUdeviceptr pointer, unsigned char value, size_t count) {
    return memset8(pointer, value, count, NULL, SYNCHRONOUS);
}

CUresult cuMemsetD8Async(CUdeviceptr pointer, unsigned char value, size_t count, CUstream stream) {
    return memset8(pointer, value, count, stream, ASYNC);
}

/* Host memory goes over as an address and a length, which the emulator copies with Unsafe: a
   ByteBuffer object per copy would be an allocation of the caller's thread in steady state. */
static CUresult copy_to_device(CUdeviceptr target, const void *source, size_t bytes, CUstream stream,
                               int synchronous) {
    if (source == NULL && bytes > 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "copyHostToDevice", "(JJJJJ)J", (jlong)target, (jlong)(intptr_t)source, (jlong)bytes,
         (jlong)(intptr_t)stream, (jlong)synchronous);
    return CUDA_SUCCESS;
}

static CUresult copy_to_host(void *target, CUdeviceptr source, size_t bytes, CUstream stream, int synchronous) {
    if (target == NULL && bytes > 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "copyDeviceToHost", "(JJJJJ)J", (jlong)(intptr_t)target, (jlong)source, (jlong)bytes,
         (jlong)(intptr_t)stream, (jlong)synchronous);
    return CUDA_SUCCESS;
}

static CUresult copy_on_device(CUdeviceptr target, CUdeviceptr source, size_t bytes, CUstream stream,
                               int synchronous) {
    jlong r;
    CALL(r, "copyDeviceToDevice", "(JJJJJ)J", (jlong)target, (jlong)source, (jlong)bytes, (jlong)(intptr_t)stream,
         (jlong)synchronous);
    return CUDA_SUCCESS;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr target, const void *source, size_t bytes) {
    return copy_to_device(target, source, bytes, NULL, SYNCHRONOUS);
}

CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr target, const void *source, size_t bytes, CUstream stream) {
    return copy_to_device(target, source, bytes, stream, ASYNC);
}

CUresult cuMemcpyDtoH_v2(void *target, CUdeviceptr source, size_t bytes) {
    return copy_to_host(target, source, bytes, NULL, SYNCHRONOUS);
}

CUresult cuMemcpyDtoHAsync_v2(void *target, CUdeviceptr source, size_t bytes, CUstream stream) {
    return copy_to_host(target, source, bytes, stream, ASYNC);
}

CUresult cuMemcpyDtoD_v2(CUdeviceptr target, CUdeviceptr source, size_t bytes) {
    return copy_on_device(target, source, bytes, NULL, SYNCHRONOUS);
}

CUresult cuMemcpyDtoDAsync_v2(CUdeviceptr target, CUdeviceptr source, size_t bytes, CUstream stream) {
    return copy_on_device(target, source, bytes, stream, ASYNC);
}

/* ---- pinned host memory ----
 *
 * Real native memory, page aligned as the driver's is, so the host side reads and writes it as it
 * would on a GPU; the emulator is told its address and size and maps it into the device (every
 * pinned allocation is mapped, as under UVA). It starts filled with 0xFF bytes (NaN as a float or
 * a double, -1 as an integer) rather than zeros, so code that reads pinned memory it never wrote
 * gets visibly wrong results instead of plausible zeros.
 */
#define PINNED_GARBAGE 0xFF

static CUresult register_pinned(void *memory, size_t bytes, unsigned int flags) {
    jlong r;
    CALL(r, "hostAllocate", "(JJJ)J", (jlong)(intptr_t)memory, (jlong)bytes, (jlong)flags);
    return CUDA_SUCCESS;
}

static CUresult host_alloc(void **pointer, size_t bytes, unsigned int flags) {
    if (pointer == NULL || bytes == 0) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    long page = sysconf(_SC_PAGESIZE);
    void *memory = NULL;
    if (posix_memalign(&memory, page > 0 ? (size_t)page : 4096, bytes) != 0) {
        return CUDA_ERROR_OUT_OF_MEMORY;
    }
    memset(memory, PINNED_GARBAGE, bytes);
    CUresult result = register_pinned(memory, bytes, flags);
    if (result != CUDA_SUCCESS) {
        free(memory);
        return result;
    }
    *pointer = memory;
    return CUDA_SUCCESS;
}

CUresult cuMemAllocHost_v2(void **pointer, size_t bytes) {
    return host_alloc(pointer, bytes, 0);
}

CUresult cuMemHostAlloc(void **pointer, size_t bytes, unsigned int flags) {
    return host_alloc(pointer, bytes, flags);
}

CUresult cuMemFreeHost(void *pointer) {
    jlong r;
    CALL(r, "hostFree", "(J)J", (jlong)(intptr_t)pointer); /* fails unless pointer starts a pinned allocation */
    free(pointer);
    return CUDA_SUCCESS;
}

CUresult cuMemHostGetDevicePointer_v2(CUdeviceptr *device, void *host, unsigned int flags) {
    if (device == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "hostDevicePointer", "(JJ)J", (jlong)(intptr_t)host, (jlong)flags);
    *device = (CUdeviceptr)r;
    return CUDA_SUCCESS;
}

CUresult cuMemHostGetFlags(unsigned int *flags, void *host) {
    if (flags == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "hostFlags", "(J)J", (jlong)(intptr_t)host);
    *flags = (unsigned int)r;
    return CUDA_SUCCESS;
}

/* ---- launches ---- */

/*
 * The driver knows each kernel's parameter list from its module; so does the emulator. The stub
 * asks once per function for the offsets and sizes, copies each argument's bytes from
 * kernelParams[i] into one buffer laid out as the kernel's .param space, and hands that over with
 * the launch. Layouts and the buffer are kept, so a launch in steady state allocates nothing.
 */
#define MAX_FUNCTIONS 256
#define MAX_PARAMETERS 64

struct layout {
    CUfunction function;
    jsize count;
    jlong bytes;
    jlong offset[MAX_PARAMETERS];
    jlong size[MAX_PARAMETERS];
};

static struct layout layouts[MAX_FUNCTIONS];
static int layout_count;
static jbyteArray parameter_buffer; /* a global reference, grown to the largest .param space */
static jsize parameter_capacity;
/* Layers on several threads launch at once; the table and the buffer are one per process. */
static pthread_mutex_t launch_lock = PTHREAD_MUTEX_INITIALIZER;

static struct layout *layout_of(JNIEnv *env, CUfunction function) {
    for (int i = 0; i < layout_count; i++) {
        if (layouts[i].function == function) {
            return &layouts[i];
        }
    }
    static jmethodID id;
    if (id == NULL && (id = method(env, "parameterLayout", "(J)[J")) == NULL) {
        return NULL;
    }
    jlongArray fields = (jlongArray)(*env)->CallStaticObjectMethod(env, driver, id, (jlong)(intptr_t)function);
    if (thrown(env) || fields == NULL || layout_count == MAX_FUNCTIONS) {
        return NULL; /* not a function handle of a loaded module */
    }
    /* fields = {total bytes, offset 0, size 0, offset 1, size 1, ...} */
    jsize entries = (*env)->GetArrayLength(env, fields);
    jsize count = (entries - 1) / 2;
    if (count > MAX_PARAMETERS) {
        return NULL;
    }
    struct layout *layout = &layouts[layout_count++];
    layout->function = function;
    layout->count = count;
    (*env)->GetLongArrayRegion(env, fields, 0, 1, &layout->bytes);
    for (jsize i = 0; i < count; i++) {
        (*env)->GetLongArrayRegion(env, fields, 1 + 2 * i, 1, &layout->offset[i]);
        (*env)->GetLongArrayRegion(env, fields, 2 + 2 * i, 1, &layout->size[i]);
    }
    (*env)->DeleteLocalRef(env, fields);
    return layout;
}

static CUresult launch_locked(JNIEnv *env, CUfunction function, unsigned int grid_x, unsigned int grid_y,
                              unsigned int grid_z, unsigned int block_x, unsigned int block_y, unsigned int block_z,
                              unsigned int shared_bytes, CUstream stream, void **parameters, void *packed,
                              size_t packed_size);

CUresult cuLaunchKernel(CUfunction function, unsigned int grid_x, unsigned int grid_y, unsigned int grid_z,
                        unsigned int block_x, unsigned int block_y, unsigned int block_z, unsigned int shared_bytes,
                        CUstream stream, void **parameters, void **extra) {
    JNIEnv *env = java();
    if (env == NULL) {
        return CUDA_ERROR_NOT_INITIALIZED;
    }
    /* extra: {CU_LAUNCH_PARAM_BUFFER_POINTER, buffer, CU_LAUNCH_PARAM_BUFFER_SIZE, &size,
       CU_LAUNCH_PARAM_END} in either order, the .param space packed in one buffer; not with kernelParams. */
    void *packed = NULL;
    size_t *packed_size = NULL;
    if (extra != NULL) {
        if (parameters != NULL) {
            return CUDA_ERROR_INVALID_VALUE;
        }
        for (int i = 0; extra[i] != CU_LAUNCH_PARAM_END; i += 2) {
            if (i >= 8) {
                return CUDA_ERROR_INVALID_VALUE;
            }
            if (extra[i] == CU_LAUNCH_PARAM_BUFFER_POINTER) {
                packed = extra[i + 1];
            } else if (extra[i] == CU_LAUNCH_PARAM_BUFFER_SIZE) {
                packed_size = (size_t *)extra[i + 1];
            } else {
                return CUDA_ERROR_INVALID_VALUE;
            }
        }
        if (packed == NULL || packed_size == NULL) {
            return CUDA_ERROR_INVALID_VALUE;
        }
    }
    pthread_mutex_lock(&launch_lock);
    CUresult result = launch_locked(env, function, grid_x, grid_y, grid_z, block_x, block_y, block_z, shared_bytes,
                                    stream, parameters, packed, packed_size == NULL ? 0 : *packed_size);
    pthread_mutex_unlock(&launch_lock);
    return result;
}

static CUresult launch_locked(JNIEnv *env, CUfunction function, unsigned int grid_x, unsigned int grid_y,
                              unsigned int grid_z, unsigned int block_x, unsigned int block_y, unsigned int block_z,
                              unsigned int shared_bytes, CUstream stream, void **parameters, void *packed,
                              size_t packed_size) {
    struct layout *layout = layout_of(env, function);
    if (layout == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    if (packed != NULL ? packed_size != (size_t)layout->bytes : layout->count > 0 && parameters == NULL) {
        return CUDA_ERROR_INVALID_VALUE; /* a packed buffer must be the kernel's whole .param space */
    }
    if (parameter_capacity < layout->bytes || parameter_buffer == NULL) {
        jbyteArray bigger = (*env)->NewByteArray(env, (jsize)(layout->bytes < 256 ? 256 : layout->bytes));
        if (bigger == NULL || thrown(env)) {
            return CUDA_ERROR_UNKNOWN;
        }
        if (parameter_buffer != NULL) {
            (*env)->DeleteGlobalRef(env, parameter_buffer);
        }
        parameter_buffer = (jbyteArray)(*env)->NewGlobalRef(env, bigger);
        parameter_capacity = (*env)->GetArrayLength(env, bigger);
        (*env)->DeleteLocalRef(env, bigger);
    }
    if (packed != NULL) {
        (*env)->SetByteArrayRegion(env, parameter_buffer, 0, (jsize)layout->bytes, (const jbyte *)packed);
    }
    for (jsize i = 0; packed == NULL && i < layout->count; i++) {
        if (parameters[i] == NULL) {
            return CUDA_ERROR_INVALID_VALUE;
        }
        (*env)->SetByteArrayRegion(env, parameter_buffer, (jsize)layout->offset[i], (jsize)layout->size[i],
                                   (const jbyte *)parameters[i]);
    }
    jlong r;
    CALL(r, "launch", "(JJJJJJJJJ[BJ)J", (jlong)(intptr_t)function, (jlong)grid_x, (jlong)grid_y, (jlong)grid_z,
         (jlong)block_x, (jlong)block_y, (jlong)block_z, (jlong)shared_bytes, (jlong)(intptr_t)stream,
         parameter_buffer, layout->bytes);
    return CUDA_SUCCESS;
}

/* ---- streams and events ---- */

CUresult cuStreamCreate(CUstream *stream, unsigned int flags) {
    if (stream == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "streamCreate", "(J)J", (jlong)flags);
    *stream = (CUstream)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuStreamDestroy_v2(CUstream stream) {
    jlong r;
    CALL(r, "streamDestroy", "(J)J", (jlong)(intptr_t)stream);
    return CUDA_SUCCESS;
}

CUresult cuStreamGetFlags(CUstream stream, unsigned int *flags) {
    if (flags == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "streamFlags", "(J)J", (jlong)(intptr_t)stream);
    *flags = (unsigned int)r;
    return CUDA_SUCCESS;
}

CUresult cuStreamSynchronize(CUstream stream) {
    jlong r;
    CALL(r, "streamSynchronize", "(J)J", (jlong)(intptr_t)stream);
    return CUDA_SUCCESS;
}

CUresult cuStreamQuery(CUstream stream) {
    jlong r;
    CALL(r, "streamQuery", "(J)J", (jlong)(intptr_t)stream); /* work runs at launch: always done */
    return CUDA_SUCCESS;
}

/* Work runs when it is issued, so the wait is met at once; the emulator checks the handles and the
   capture rules (a stream waiting on an event a capture recorded joins that capture). */
CUresult cuStreamWaitEvent(CUstream stream, CUevent event, unsigned int flags) {
    jlong r;
    CALL(r, "streamWaitEvent", "(JJJ)J", (jlong)(intptr_t)stream, (jlong)(intptr_t)event, (jlong)flags);
    return CUDA_SUCCESS;
}

CUresult cuEventCreate(CUevent *event, unsigned int flags) {
    jlong r;
    CALL(r, "eventCreate", "(J)J", (jlong)flags);
    *event = (CUevent)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuEventDestroy_v2(CUevent event) {
    jlong r;
    CALL(r, "eventDestroy", "(J)J", (jlong)(intptr_t)event);
    return CUDA_SUCCESS;
}

CUresult cuEventRecord(CUevent event, CUstream stream) {
    jlong r;
    CALL(r, "eventRecord", "(JJ)J", (jlong)(intptr_t)event, (jlong)(intptr_t)stream);
    return CUDA_SUCCESS;
}

CUresult cuEventSynchronize(CUevent event) {
    jlong r;
    CALL(r, "eventSynchronize", "(J)J", (jlong)(intptr_t)event);
    return CUDA_SUCCESS;
}

/* Not a synchronization: work ran when it was issued, so a recorded event has always completed. */
CUresult cuEventQuery(CUevent event) {
    jlong r;
    CALL(r, "eventQuery", "(J)J", (jlong)(intptr_t)event);
    return CUDA_SUCCESS;
}

/* Milliseconds between two recorded events, as the emulator's cost model puts them (modeled time). */
CUresult cuEventElapsedTime(float *milliseconds, CUevent start, CUevent end) {
    jlong r;
    CALL(r, "eventElapsedNanos", "(JJ)J", (jlong)(intptr_t)start, (jlong)(intptr_t)end);
    *milliseconds = (float)((double)r / 1e6);
    return CUDA_SUCCESS;
}

/* ---- stream capture and graphs ----
 *
 * While a stream captures, the emulator records its launches, async copies, memsets and event
 * records instead of running them (a launch's parameter bytes are copied then, as the driver
 * does); cuGraphLaunch replays them in order, each counted as a launch or copy of its own.
 */

CUresult cuStreamBeginCapture_v2(CUstream stream, int mode) {
    jlong r;
    CALL(r, "streamBeginCapture", "(JJ)J", (jlong)(intptr_t)stream, (jlong)mode);
    return CUDA_SUCCESS;
}

CUresult cuStreamEndCapture(CUstream stream, CUgraph *graph) {
    if (graph == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    *graph = NULL; /* an invalidated capture ends without a graph */
    jlong r;
    CALL(r, "streamEndCapture", "(J)J", (jlong)(intptr_t)stream);
    *graph = (CUgraph)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuStreamIsCapturing(CUstream stream, int *status) {
    if (status == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "streamIsCapturing", "(J)J", (jlong)(intptr_t)stream);
    *status = (int)r;
    return CUDA_SUCCESS;
}

CUresult cuGraphInstantiateWithFlags(CUgraphExec *executable, CUgraph graph, unsigned long long flags) {
    if (executable == NULL) {
        return CUDA_ERROR_INVALID_VALUE;
    }
    jlong r;
    CALL(r, "graphInstantiate", "(JJ)J", (jlong)(intptr_t)graph, (jlong)flags);
    *executable = (CUgraphExec)(intptr_t)r;
    return CUDA_SUCCESS;
}

CUresult cuGraphLaunch(CUgraphExec executable, CUstream stream) {
    jlong r;
    CALL(r, "graphLaunch", "(JJ)J", (jlong)(intptr_t)executable, (jlong)(intptr_t)stream);
    return CUDA_SUCCESS;
}

CUresult cuGraphExecDestroy(CUgraphExec executable) {
    jlong r;
    CALL(r, "graphExecDestroy", "(J)J", (jlong)(intptr_t)executable);
    return CUDA_SUCCESS;
}

CUresult cuGraphDestroy(CUgraph graph) {
    jlong r;
    CALL(r, "graphDestroy", "(J)J", (jlong)(intptr_t)graph);
    return CUDA_SUCCESS;
}
