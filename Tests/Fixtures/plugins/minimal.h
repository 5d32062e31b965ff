/* Shared scaffolding of the test plugins: a descriptor and a sender whose
 * behaviour each fixture overrides. Each fixture is one way to break the ABI. */
#include <batchsender/plugin.h>
#include <string.h>

#ifndef FIXTURE_ID
#define FIXTURE_ID "fixture"
#endif

static const bsp_config_key fixture_keys[] = {
    { "url", BSP_CONFIG_URL, 0, "unused", "http://127.0.0.1:9/" },
};
static const char *const fixture_interfaces[] = { BSP_SENDER_V1 };
static const bsp_descriptor fixture_descriptor = {
    sizeof(bsp_descriptor), FIXTURE_ID, "Fixture", "0.0.1", "a test plugin",
    BSP_CHANNEL_EMAIL, 10, fixture_keys, 1, fixture_interfaces, 1,
};

struct bsp_instance { int unused; };
static struct bsp_instance fixture_instance;

static bsp_status fixture_create(bsp_call *call, const bsp_config *config, bsp_instance **out) {
    (void)call; (void)config;
    *out = &fixture_instance;
    return BSP_OK;
}
static void fixture_destroy(bsp_instance *instance) { (void)instance; }

static inline bsp_str fixture_str(const char *text) { bsp_str s = { text, strlen(text) }; return s; }
