/* libsodium's Ed25519 (crypto_sign_*): what signs trace checkpoints, about twice as fast as
 * OpenSSL 3.0's EVP_DigestSign for the same deterministic signature (docs/performance.md). */
#include <sodium.h>
