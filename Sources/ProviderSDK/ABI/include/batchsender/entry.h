/*
 * batchsender/entry.h — the one symbol a plugin exports, and the table it
 * returns.
 *
 * Loading, as the host does it:
 *   1. dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE), once, at start-up.
 *      Plugins are never unloaded (unloading Swift code corrupts its runtime).
 *   2. dlsym(handle, "batchsender_plugin_entry").
 *   3. entry(BSP_ABI_MAJOR, BSP_ABI_MINOR): the plugin answers its table, or
 *      NULL when it cannot serve that major.
 *   4. Reads the descriptor, asks get_interface for each interface it needs.
 *   5. create() one instance per send-config; destroy() when it is retired.
 */
#ifndef BATCHSENDER_ENTRY_H
#define BATCHSENDER_ENTRY_H

#include "types.h"
#include "status.h"
#include "host.h"
#include "descriptor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The ABI this header describes. A new major breaks compatibility (hosts and
 * plugins of different majors refuse each other); a new minor only adds
 * fields at the end of tables, status codes, outcome kinds and interface
 * ids, so plugins and hosts of any two minors of one major work together:
 * - each side reads the other's tables only as far as their struct_size goes
 *   (a field beyond it reads as 0);
 * - a plugin sends only values the host's minor defines: the host_abi_minor
 *   the entry function receives (also bsp_host.abi_minor). To a host of an
 *   older minor it sends the older equivalent the newer value's comment
 *   names (BSP_OUTCOME_THROTTLED, 1.1, becomes BSP_OUTCOME_RETRYABLE for 1.0).
 * 1.1 added BSP_OUTCOME_THROTTLED and bsp_descriptor's default_rate and
 * rate_unit. 1.2 added bsp_message.attachments. */
#define BSP_ABI_MAJOR 1
#define BSP_ABI_MINOR 2

/* The exported symbol's name, for dlsym. */
#define BSP_ENTRY_SYMBOL "batchsender_plugin_entry"

#if defined(_WIN32)
#define BSP_EXPORT __declspec(dllexport)
#else
#define BSP_EXPORT __attribute__((visibility("default")))
#endif

/* One configured instance of a plugin: its credentials, base URL, options.
 * Defined by the plugin; opaque to the host. */
typedef struct bsp_instance bsp_instance;

/* The plugin's table. Static, owned by the plugin, never freed. */
typedef struct bsp_plugin {
    /* sizeof(bsp_plugin) as the plugin knows it: the host reads only fields
     * that end within it. */
    uint32_t struct_size;
    /* The ABI the plugin was built against; abi_major equals the host's. */
    uint32_t abi_major;
    uint32_t abi_minor;

    const bsp_descriptor *descriptor;

    /* Makes an instance from `config`. On BSP_OK, *out_instance is set and
     * owned by the plugin until destroy. On error, *out_instance is left
     * NULL and set_error names the key at fault: BSP_E_CONFIG for a missing
     * required key, a value of the wrong type or format, or an unknown key.
     *
     * `config` is the host's, valid until return: copy what you keep.
     * `call->host` may be kept for the instance's life.
     * Threads: any thread; concurrently with other create calls. */
    bsp_status (*create)(bsp_call *call, const bsp_config *config,
                         bsp_instance **out_instance);

    /* Frees an instance. The host calls it once, after every call on that
     * instance has returned, and never uses the pointer again. NULL is a
     * no-op. Threads: any thread. */
    void (*destroy)(bsp_instance *instance);

    /* The interface table for `interface_id` (e.g. BSP_SENDER_V1), or NULL
     * when the plugin does not serve it. The table is static. `interface_id`
     * is NUL-terminated and borrowed. Threads: any thread. */
    const void *(*get_interface)(const char *interface_id);
} bsp_plugin;

/* The entry function: called once by the host, before anything else and
 * never concurrently with any other call. Returns the plugin's static table,
 * or NULL when the plugin cannot serve `host_abi_major`. `host_abi_minor` is
 * the minor the host implements, e.g. 0 for a 1.0 host: keep it, and send
 * nothing that minor does not define (see BSP_ABI_MINOR above). */
typedef const bsp_plugin *(*bsp_entry_fn)(uint32_t host_abi_major,
                                          uint32_t host_abi_minor);

BSP_EXPORT const bsp_plugin *batchsender_plugin_entry(uint32_t host_abi_major,
                                                      uint32_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* BATCHSENDER_ENTRY_H */
