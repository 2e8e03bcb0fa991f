/* plugin_load: finds a plugin by spec: a path to a shared library exporting
 * shotq_plugin_entry(), or "builtin:NAME" for one linked into shotq. */
#ifndef SHOTQ_PLUGIN_LOAD_H
#define SHOTQ_PLUGIN_LOAD_H

#include <stddef.h>

#include "shotq/plugin.h"

typedef const struct shotq_plugin *(*plugin_builtin_fn)(const char *name);

/* Loads the plugin. Returns it and sets *handle (for plugin_unload), or
 * NULL with one line in err naming the spec and what is wrong. */
const struct shotq_plugin *plugin_load(const char *spec, plugin_builtin_fn builtins,
                                       void **handle, char *err, size_t errlen);

void plugin_unload(void *handle);

#endif
