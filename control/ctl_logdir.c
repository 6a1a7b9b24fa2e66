/* SPDX-License-Identifier: MIT */
/* The log directory for egwctl: see ctl_logdir.h. */
#include <libgen.h>
#include <stdio.h>
#include <string.h>

#include <libconfig.h>

#include <egw/policy.h>

#include "ctl_logdir.h"

int ctl_log_dir(const char *dir_opt, const char *config, char *buf, size_t cap)
{
	config_t cfg;
	const char *d;
	char tmp[4096];
	int rc = -1;

	if (dir_opt) {
		snprintf(buf, cap, "%s", dir_opt);
		return 0;
	}
	if (!config)
		config = CTL_DEFAULT_CONFIG;
	snprintf(tmp, sizeof(tmp), "%s", config);
	config_init(&cfg);
	config_set_include_dir(&cfg, dirname(tmp));
	if (!config_read_file(&cfg, config)) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			fprintf(stderr, "egwctl: %s: cannot read the policy (give --dir or "
				"--config)\n", config);
		else
			fprintf(stderr, "%s:%d: %s\n", config_error_file(&cfg) ?
				config_error_file(&cfg) : config, config_error_line(&cfg),
				config_error_text(&cfg));
		goto out;
	}
	if (!config_lookup_string(&cfg, "log.directory", &d)) {
		d = EGW_LOG_DIR_DEFAULT;   /* as the daemons write it */
	} else if (!*d) {
		fprintf(stderr, "%s: log.directory is empty\n", config);
		goto out;
	}
	snprintf(tmp, sizeof(tmp), "%s", config);
	if (d[0] == '/')
		snprintf(buf, cap, "%s", d);
	else
		snprintf(buf, cap, "%s/%s", dirname(tmp), d);
	rc = 0;
out:
	config_destroy(&cfg);
	return rc;
}
