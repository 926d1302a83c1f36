#include <openssl/evp.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/err.h>

/* SHA-256 of a ‖ b with the low-level interface on a stack context: no allocation, no provider
 * dispatch. A trace verify hashes one short message per event, where EVP's per-message set-up
 * costs more than the hashing; the low-level calls are deprecated in OpenSSL 3 but kept, and
 * they run the same implementation (SHA-NI where the CPU has it). */
#include <stddef.h>
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static inline void airlock_sha256_concat(
    const void *a, size_t a_count, const void *b, size_t b_count, unsigned char *out) {
    SHA256_CTX context;
    SHA256_Init(&context);
    SHA256_Update(&context, a, a_count);
    SHA256_Update(&context, b, b_count);
    SHA256_Final(out, &context);
    OPENSSL_cleanse(&context, sizeof context);
}
#pragma GCC diagnostic pop
