// gpu-check worker: holds a known amount of GPU memory so that what rbee reports
// for its pid can be set next to nvidia-smi.
//   alloc MIB SECONDS [busy]
// Allocates MIB MiB with cudaMalloc, writes it (so it is really backed), prints
// "ready pid=N mib=M", then holds it for SECONDS; with "busy" it keeps the SMs
// working meanwhile, so that per-process SM utilization has something to show.
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(call) do { cudaError_t e_ = (call); if (e_ != cudaSuccess) { \
    fprintf(stderr, "alloc: %s: %s\n", #call, cudaGetErrorString(e_)); return 1; } } while (0)

__global__ void touch(unsigned int *p, size_t n, unsigned int v) {
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
        p[i] = p[i] * 1664525u + v;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: alloc MIB SECONDS [busy]\n"); return 2; }
    size_t mib = strtoull(argv[1], NULL, 10);
    int seconds = atoi(argv[2]);
    int busy = argc > 3 && !strcmp(argv[3], "busy");
    size_t bytes = mib << 20;
    unsigned int *p;
    CHECK(cudaMalloc((void **)&p, bytes));
    CHECK(cudaMemset(p, 0x5a, bytes));
    CHECK(cudaDeviceSynchronize());
    printf("ready pid=%d mib=%zu\n", (int)getpid(), mib);
    fflush(stdout);
    time_t end = time(NULL) + seconds;
    unsigned int v = 1;
    while (time(NULL) < end) {
        if (busy) {
            touch<<<1024, 256>>>(p, bytes / sizeof *p, v++);
            CHECK(cudaDeviceSynchronize());
        } else {
            sleep(1);
        }
    }
    CHECK(cudaFree(p));
    return 0;
}
