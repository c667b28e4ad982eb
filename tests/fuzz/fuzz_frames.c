/* fuzz_frames.c - libFuzzer harness: a frame cache file (PFRM, src/data.c)
 * through prime_frames_load, which reads a path: the bytes are written to a
 * per-process file under /dev/shm (memory) first. docs/fuzzing.md. */
#include <stdio.h>
#include <unistd.h>

#include "data.h"
#include "fuzz_common.h"

static char path[64];
static void remove_file(void) { unlink(path); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!path[0]) {
        snprintf(path, sizeof path, "%s/prime-fuzz-frames-%d.bin", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
        atexit(remove_file);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    prime_frames f;
    if (prime_frames_load(path, &f) == 0) {
        size_t nx = (size_t)f.n * prime_frames_sample_size(&f);
        volatile unsigned s = 0;
        if (nx) s += f.x[0] + f.x[nx - 1];
        if (f.n) s += f.y[0] + f.y[f.n - 1];
        (void)s;
        prime_frames_free(&f);
    }
    return 0;
}
