#include "al_fuzz_driver.h"

// In libclang_rt.fuzzer (linked by -sanitize=fuzzer).
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int al_fuzz_run(int argc, char **argv, al_fuzz_callback callback) {
    return LLVMFuzzerRunDriver(&argc, &argv, callback);
}
