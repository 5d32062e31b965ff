/*
 * batchsender/plugin.h — the BatchSender provider plugin ABI, version 1.0.
 *
 * Include this one header. The ABI, one concept per file:
 *   types.h       byte views, pairs, lists, channels
 *   status.h      the error vocabulary (bsp_status)
 *   message.h     the normalised message a plugin sends
 *   http.h        HTTP requests, responses and inbound webhooks as data
 *   outcome.h     what happened to one message
 *   event.h       the normalised delivery event
 *   host.h        the per-call context and the host services
 *   descriptor.h  what a plugin declares: id, channels, max batch, config keys
 *   sender.h      interface "batchsender.sender/1": prepare, interpret
 *   webhook.h     interface "batchsender.webhook/1": verify, parse
 *   entry.h       the exported entry function and the plugin table
 *
 * Rules that hold everywhere:
 * - Growth: every table starts with struct_size; readers read only fields
 *   inside the size they were given; tables only grow at the end. A breaking
 *   change gets a new interface id ("…/2") or a new BSP_ABI_MAJOR.
 * - Ownership: inputs are borrowed for the duration of the call; outputs go
 *   through bsp_call sinks that copy before they return. Nothing allocated
 *   by one side is freed by the other.
 * - Threads: the entry function runs alone. create, destroy, and every
 *   interface function are thread-safe; instance functions may run
 *   concurrently on one instance. No plugin keeps or uses a bsp_call after
 *   the function that received it returns.
 * - Safety: nothing may unwind, abort or trap on bad input; a crash in a
 *   plugin is a crash of the host. Only C types cross the boundary.
 */
#ifndef BATCHSENDER_PLUGIN_H
#define BATCHSENDER_PLUGIN_H

#include "types.h"
#include "status.h"
#include "message.h"
#include "http.h"
#include "outcome.h"
#include "event.h"
#include "host.h"
#include "descriptor.h"
#include "sender.h"
#include "webhook.h"
#include "entry.h"

#endif /* BATCHSENDER_PLUGIN_H */
