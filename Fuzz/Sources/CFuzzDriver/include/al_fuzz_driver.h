#ifndef AL_FUZZ_DRIVER_H
#define AL_FUZZ_DRIVER_H

#include <stddef.h>
#include <stdint.h>

/// The harness's per-input callback: libFuzzer's `LLVMFuzzerTestOneInput` shape. `data` is owned
/// by libFuzzer and valid only during the call; returns 0.
typedef int (*al_fuzz_callback)(const uint8_t *data, size_t size);

/// Runs libFuzzer's driver (command-line options, corpus directories, the fuzzing loop) over
/// `callback`. SwiftPM links an executable's `main` to its module's own entry point, so a
/// harness cannot use libFuzzer's `main`; its entry point calls this instead. `argc` and `argv`
/// are main's, not copied. Returns libFuzzer's exit status.
int al_fuzz_run(int argc, char **argv, al_fuzz_callback callback);

#endif
