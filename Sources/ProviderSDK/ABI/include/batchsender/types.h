/*
 * batchsender/types.h — the small value types every other header uses.
 *
 * Nothing here owns memory. A view (bsp_str, bsp_bytes, and the lists built
 * from them) points at memory that belongs to whoever passed it, for exactly
 * as long as the function it was passed to runs. Copy what you keep.
 */
#ifndef BATCHSENDER_TYPES_H
#define BATCHSENDER_TYPES_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* UTF-8 text as (pointer, length). Not NUL-terminated. `ptr` may be NULL only
 * when `len` is 0. An empty string and an absent optional field are the same. */
typedef struct bsp_str {
    const char *ptr;
    size_t len;
} bsp_str;

/* Arbitrary bytes (a request or response body). Same rules as bsp_str. */
typedef struct bsp_bytes {
    const uint8_t *ptr;
    size_t len;
} bsp_bytes;

/* A name and a value: an HTTP header, a tag, a metadata entry, a config entry.
 * HTTP header names handed to a plugin by the host are lower-case ASCII;
 * names a plugin emits may use any case (HTTP names are case-insensitive). */
typedef struct bsp_pair {
    bsp_str name;
    bsp_str value;
} bsp_pair;

/* `count` items at `items`; `items` may be NULL only when `count` is 0. */
typedef struct bsp_str_list {
    const bsp_str *items;
    size_t count;
} bsp_str_list;

typedef struct bsp_pair_list {
    const bsp_pair *items;
    size_t count;
} bsp_pair_list;

/* Channels a plugin can send on; a bit set in bsp_descriptor.channels, one
 * value in bsp_message.channel. */
#define BSP_CHANNEL_EMAIL   1u /* example: Resend, Amazon SES */
#define BSP_CHANNEL_SMS     2u /* example: Telnyx */
#define BSP_CHANNEL_WEBHOOK 4u /* example: a signed POST to the user's URL */

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_TYPES_H */
