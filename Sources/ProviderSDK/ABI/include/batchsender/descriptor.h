/*
 * batchsender/descriptor.h — what a plugin declares about itself, statically.
 *
 * Ownership: the descriptor and everything it points to are static data of
 * the plugin, valid for the life of the process (plugins are never unloaded).
 * Strings here are NUL-terminated UTF-8.
 */
#ifndef BATCHSENDER_DESCRIPTOR_H
#define BATCHSENDER_DESCRIPTOR_H

#include "types.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The type of a configuration value. In bsp_config every value is text:
 * lists and maps are JSON text, e.g. ["a","b"] and {"X-Team":"ops"}. */
#define BSP_CONFIG_STRING      0 /* any text */
#define BSP_CONFIG_URL         1 /* an absolute http(s) URL */
#define BSP_CONFIG_BOOL        2 /* "true" or "false" */
#define BSP_CONFIG_STRING_LIST 3 /* a JSON array of strings */
#define BSP_CONFIG_STRING_MAP  4 /* a JSON object of string values */

/* Flags of a configuration key (a bit set). */
#define BSP_CONFIG_REQUIRED 1u /* create refuses a config without it */
#define BSP_CONFIG_SECRET   2u /* stored encrypted, never logged or returned */

/* The unit of bsp_descriptor.default_rate (since ABI 1.1). */
#define BSP_RATE_MESSAGES_PER_SECOND 1 /* e.g. SES: 14 messages a second */
#define BSP_RATE_REQUESTS_PER_SECOND 2 /* one request carries up to max_batch
                                        * messages: 2 requests a second with a
                                        * max_batch of 100 is up to 200
                                        * messages a second */

typedef struct bsp_config_key {
    /* e.g. "api_key": [a-z][a-z0-9_]* */
    const char *name;
    /* One of BSP_CONFIG_*. */
    int32_t type;
    /* BSP_CONFIG_REQUIRED | BSP_CONFIG_SECRET */
    uint32_t flags;
    /* One line for a person, e.g. "Resend API key (re_…)". */
    const char *description;
    /* The value used when the key is absent, or NULL for none. */
    const char *default_value;
} bsp_config_key;

typedef struct bsp_descriptor {
    uint32_t struct_size;
    /* Unique among loaded plugins, e.g. "resend": [a-z][a-z0-9_-]{0,63}. It
     * is the {provider} of /webhooks/{provider} and the send-config's
     * provider. */
    const char *id;
    /* For people, e.g. "Resend". */
    const char *name;
    /* The plugin's own semantic version, e.g. "1.2.0". */
    const char *version;
    /* One line for people, e.g. "Email through the Resend API". */
    const char *description;
    /* BSP_CHANNEL_* bits. */
    uint32_t channels;
    /* The most messages one sender.prepare call accepts (the provider's
     * largest batch), at least 1. */
    uint32_t max_batch;
    /* The configuration keys the plugin accepts; others are refused. */
    const bsp_config_key *config_keys;
    size_t config_key_count;
    /* The interface ids get_interface answers, e.g. BSP_SENDER_V1. */
    const char *const *interfaces;
    size_t interface_count;

    /* Since ABI 1.1; a 1.0 plugin's struct_size ends before them, and the
     * host reads them as 0 (no rate). */
    /* The provider's published sending rate for one account, in rate_unit,
     * e.g. 14 (SES's default production quota, messages a second). The host
     * sends a bring-your-own-key send-config that names no rate of its own at
     * this rate. 0: the provider publishes none, and the host uses its own
     * default. */
    uint32_t default_rate;
    /* One of BSP_RATE_*; required when default_rate is not 0, ignored when it
     * is. */
    int32_t rate_unit;

    /* Since ABI 1.2: BSP_FEATURE_* bits for what the plugin does beyond the
     * 1.0 message. A plugin built against this header without setting a bit
     * does not have the feature: the host never hands it a message that needs
     * one (a 1.1 plugin's struct_size ends before it, and reads as 0). */
    uint32_t features;
} bsp_descriptor;

/* bsp_descriptor.features bits. */
#define BSP_FEATURE_ATTACHMENTS 1u /* sends bsp_message.attachments (1.2) */

/* A configuration for bsp_plugin.create: the send-config's values by key.
 * Owned by the host, valid until create returns (copy what you keep). */
typedef struct bsp_config {
    uint32_t struct_size;
    bsp_pair_list entries;
} bsp_config;

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_DESCRIPTOR_H */
