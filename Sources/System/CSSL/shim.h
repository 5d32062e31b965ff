// HMACKey keeps its padded SHA-256 states in SHA256_CTX values: copying one is a
// memcpy, where OpenSSL 3.0's EVP_MD_CTX_copy_ex allocates on every copy. Those
// functions are deprecated (not removed) in 3.0; this keeps them warning-free.
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/err.h>
