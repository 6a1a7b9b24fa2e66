/* SPDX-License-Identifier: MIT */
/*
 * egw_policy_load: read the libconfig file, walk its sections in a fixed
 * order (each reader reports every problem and keeps going), check what
 * spans sections (units vs terminals, references, geo), and hand back the
 * compiled policy only when no error was found. See egw/policy.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <egw/diag.h>
#include <egw/geo.h>
#include <egw/policy.h>

#include "policy_int.h"

static const char *const top_keys[] = {
	"version", "gateway", "geo", "units", "terminals", "dns", "categories",
	"profiles", "log", NULL
};

static void parse_version(struct pctx *c, const config_setting_t *root)
{
	const config_setting_t *s = config_setting_get_member(root, "version");
	if (!s) {
		struct egw_loc l = loc_default(c);
		perr_at(c, &l, "version missing: a policy starts with \"version = 1;\"");
		return;
	}
	int t = config_setting_type(s);
	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) {
		perr(c, s, "version: expected the integer 1, got %s", type_name(t));
		return;
	}
	long long v = config_setting_get_int64(s);
	if (v != 1) {
		perr(c, s, "version %lld is not supported (this egw reads version 1)", v);
		return;
	}
	c->p->version = 1;
}

/* A top-level section: NULL when absent (reported when required) or of the
 * wrong kind (reported). */
static const config_setting_t *section(struct pctx *c, const config_setting_t *root,
				       const char *name, bool list, const char *required)
{
	const config_setting_t *s = config_setting_get_member(root, name);
	if (!s) {
		struct egw_loc l = loc_default(c);
		if (required)
			perr_at(c, &l, "%s missing: %s", name, required);
		return NULL;
	}
	if (list) {
		if (!config_setting_is_list(s)) {
			perr(c, s, "%s: expected a list ( { ... }, ... ), got %s", name,
			     type_name(config_setting_type(s)));
			return NULL;
		}
	} else if (!expect_group(c, s, name)) {
		return NULL;
	}
	return s;
}

static char *dir_of(struct pctx *c, const char *abs)
{
	char *copy = pctx_strdup(c, abs);
	if (!copy)
		return NULL;
	char *slash = strrchr(copy, '/');
	if (slash == copy)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	return copy;
}

static void load_root(struct pctx *c, const config_setting_t *root)
{
	check_keys(c, root, "top level", top_keys);
	parse_version(c, root);
	const config_setting_t *s;

	s = section(c, root, "gateway", false,
		    "the policy needs a gateway section (inside, outside, punt)");
	parse_gateway(c, s);
	parse_terminals_cfg(c, section(c, root, "terminals", false, NULL));
	parse_log(c, section(c, root, "log", false, NULL));
	parse_geo_cfg(c, section(c, root, "geo", false, NULL));
	parse_categories(c, section(c, root, "categories", true, NULL));
	parse_profiles(c, section(c, root, "profiles", true,
				  "the policy needs a profiles list (units refer to them)"));
	parse_units(c, section(c, root, "units", true,
			       "the policy needs a units list with at least one unit"));
	parse_dns(c, section(c, root, "dns", false, NULL));
	check_units(c);
	geo_finish(c);
	c->p->doh_category = egw_policy_find_category(c->p, "doh");
}

struct egw_policy *egw_policy_load(const char *path, struct egw_diag *diag)
{
	struct arena *a = arena_new();
	if (!a)
		return NULL;
	struct egw_policy *p = arena_alloc(a, sizeof(*p));
	if (!p) {
		arena_free(a);
		errno = ENOMEM;
		return NULL;
	}
	p->priv = a;
	p->doh_category = -1;

	struct pctx ctx = { .p = p, .a = a, .diag = diag };
	struct pctx *c = &ctx;
	size_t errors_before = egw_diag_count(diag);
	int saved_errno = 0;
	bool cf_live = false;
	config_t cf;

	c->file = pctx_intern(c, path);
	if (!c->file)
		goto err_oom;

	char *abs = realpath(path, NULL);
	if (!abs) {
		if (errno == ENOMEM)
			goto err_oom;
		egw_diag_error(diag, path, 0, "cannot open the policy: %s",
			       strerror(errno));
		goto err;
	}
	p->path = pctx_strdup(c, abs);
	free(abs);
	if (!p->path)
		goto err_oom;
	c->dir = dir_of(c, p->path);
	if (!c->dir)
		goto err_oom;

	struct stat st;
	if (stat(p->path, &st) == 0 && !S_ISREG(st.st_mode)) {
		egw_diag_error(diag, path, 0, "cannot read the policy: not a regular file");
		goto err;
	}

	if (policy_check_includes(c, path) != 0) {
		if (c->oom)
			goto err_oom;
		goto err;
	}

	config_init(&cf);
	cf_live = true;
	config_set_include_dir(&cf, c->dir);
	errno = 0;
	if (!config_read_file(&cf, path)) {
		int io_errno = errno;
		if (config_error_type(&cf) == CONFIG_ERR_FILE_IO) {
			egw_diag_error(diag, path, 0, "cannot read the policy: %s",
				       io_errno ? strerror(io_errno) : config_error_text(&cf));
		} else {
			struct egw_loc l = {
				display_file(c, config_error_file(&cf)),
				(unsigned)config_error_line(&cf)
			};
			perr_at(c, &l, "%s (libconfig stops at the first such error)",
				config_error_text(&cf));
		}
		goto err;
	}

	load_root(c, config_root_setting(&cf));
	config_destroy(&cf);
	cf_live = false;
	if (c->oom)
		goto err_oom;
	if (c->errors || egw_diag_count(diag) != errors_before)
		goto err;
	egw_diag_sort(diag);
	return p;

err_oom:
	saved_errno = ENOMEM;
err:
	if (cf_live)
		config_destroy(&cf);
	egw_diag_sort(diag);
	egw_policy_free(p);
	errno = saved_errno ? saved_errno : EINVAL;
	return NULL;
}

void egw_policy_free(struct egw_policy *p)
{
	if (!p)
		return;
	if (p->geo_classes)
		egw_geo_release(p->geo_classes, p->n_geo_classes);
	arena_free(p->priv);
}
