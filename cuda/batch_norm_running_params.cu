// The normalization parameters of inference, from the running statistics (a training forward
// writes its own in the statistics kernels' finishing step, finalize_statistics.cuh).
//
//   bn_running_params  params (4 floats per channel, see write_params), saved mean and
//                      1/sqrt(running var + eps) of each channel; grid-stride over channels
#include "finalize_statistics.cuh"

extern "C" __global__ void bn_running_params(const float* __restrict__ running_mean,
                                             const float* __restrict__ running_var, long long channels,
                                             double eps, const float* __restrict__ gamma,
                                             const float* __restrict__ beta, double* __restrict__ saved_mean,
                                             float* __restrict__ saved_invstd, float* __restrict__ params) {
    for (long long c = blockIdx.x * (long long)blockDim.x + threadIdx.x; c < channels;
         c += (long long)gridDim.x * blockDim.x) {
        float invstd = (float)(1.0 / sqrt((double)running_var[c] + eps));
        saved_mean[c] = running_mean[c];
        saved_invstd[c] = invstd;
        write_params(params, c, running_mean[c], invstd, gamma ? gamma[c] : 1.0f, beta ? beta[c] : 0.0f);
    }
}
