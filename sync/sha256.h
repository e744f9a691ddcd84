/*
 * SHA-256 (FIPS 180-4), incremental: the content address of files kept in
 * the history (files.h). None of the chosen libraries offers it in public:
 * libgit2 hashes with SHA-1 and keeps its hash functions to itself.
 */
#ifndef TS_SYNC_SHA256_H
#define TS_SYNC_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	uint32_t h[8];
	uint64_t len;            /* bytes hashed so far */
	unsigned char block[64];
	size_t used;             /* bytes waiting in `block` */
} ts_sha256_ctx;

/* Starts a hash. */
void ts_sha256_init(ts_sha256_ctx *ctx);

/* Adds `len` bytes. */
void ts_sha256_update(ts_sha256_ctx *ctx, const void *data, size_t len);

/* Ends the hash and writes the 32-byte digest; the context is spent. */
void ts_sha256_final(ts_sha256_ctx *ctx, unsigned char out[32]);

/* Ends the hash and writes the digest as 64 lowercase hex digits + NUL. */
void ts_sha256_final_hex(ts_sha256_ctx *ctx, char out[65]);

/* The hex digest of `len` bytes in one call. */
void ts_sha256_hex(char out[65], const void *data, size_t len);

/* 1 if `s` is exactly 64 lowercase hex digits. */
int ts_sha256_hex_valid(const char *s);

#endif
