/* plugin_load: dlopen + ABI checks (see plugin_load.h). */
#include "exec/plugin_load.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

/* Checks the fields every plugin must fill. Returns NULL or the problem. */
static const char *plugin_problem(const struct shotq_plugin *p)
{
    if (!p)
        return "shotq_plugin_entry() returned NULL";
    if (p->abi_version != SHOTQ_PLUGIN_ABI_VERSION)
        return "ABI version mismatch (rebuild it against this shotq's plugin.h)";
    if (!p->name || !p->init || !p->run)
        return "name, init and run must be set";
    return NULL;
}

const struct shotq_plugin *plugin_load(const char *spec, plugin_builtin_fn builtins,
                                       void **handle, char *err, size_t errlen)
{
    *handle = NULL;
    const struct shotq_plugin *p;
    if (!strncmp(spec, "builtin:", 8)) {
        p = builtins ? builtins(spec + 8) : NULL;
        if (!p) {
            snprintf(err, errlen, "--plugin '%s': no built-in plugin of that name", spec);
            return NULL;
        }
    } else {
        void *h = dlopen(spec, RTLD_NOW | RTLD_LOCAL);
        if (!h) {
            snprintf(err, errlen, "--plugin '%s': cannot load: %s", spec, dlerror());
            return NULL;
        }
        shotq_plugin_entry_fn entry;
        void *sym = dlsym(h, "shotq_plugin_entry");
        memcpy(&entry, &sym, sizeof entry); /* object -> function pointer */
        if (!sym) {
            snprintf(err, errlen,
                     "--plugin '%s': expected the symbol shotq_plugin_entry, not found",
                     spec);
            dlclose(h);
            return NULL;
        }
        p = entry();
        *handle = h;
    }
    const char *why = plugin_problem(p);
    if (why) {
        snprintf(err, errlen, "--plugin '%s': %s", spec, why);
        plugin_unload(*handle);
        *handle = NULL;
        return NULL;
    }
    return p;
}

void plugin_unload(void *handle)
{
    if (handle)
        dlclose(handle);
}
