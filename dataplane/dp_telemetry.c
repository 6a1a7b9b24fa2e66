/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <rte_telemetry.h>

#include "dp_telemetry.h"

#define MAX_FLOW_LINES 64

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct dp_telemetry_src cur;
static int registered;

/* Numbers and strings of a JSON object, nested keys joined with '_'
 * (telemetry names take letters, digits and '_': "drops_ipv4_bad_ihl"). */
static void flatten(struct rte_tel_data *d, const char *prefix, json_t *o)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		char name[RTE_TEL_MAX_STRING_LEN];
		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "_" : "", k);
		for (char *c = name; *c; c++)
			if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
			      (*c >= '0' && *c <= '9') || *c == '_'))
				*c = '_';
		if (json_is_integer(v))
			rte_tel_data_add_dict_u64(d, name, (uint64_t)json_integer_value(v));
		else if (json_is_string(v))
			rte_tel_data_add_dict_string(d, name, json_string_value(v));
		else if (json_is_boolean(v))
			rte_tel_data_add_dict_int(d, name, json_is_true(v));
		else if (json_is_object(v))
			flatten(d, name, v);
	}
}

static int cmd_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	pthread_mutex_lock(&lock);
	json_t *j = cur.stats ? cur.stats(cur.arg) : NULL;
	pthread_mutex_unlock(&lock);
	rte_tel_data_start_dict(d);
	if (!j) {
		rte_tel_data_add_dict_string(d, "error", "the fast path is not running");
		return 0;
	}
	flatten(d, "", j);
	json_decref(j);
	return 0;
}

static int cmd_flows(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	pthread_mutex_lock(&lock);
	json_t *j = cur.flows ? cur.flows(cur.arg) : NULL;
	pthread_mutex_unlock(&lock);
	rte_tel_data_start_array(d, RTE_TEL_STRING_VAL);
	json_t *arr = json_object_get(j, "flows");
	size_t i;
	json_t *f;
	json_array_foreach(arr, i, f) {
		if (i == MAX_FLOW_LINES)
			break;
		char line[RTE_TEL_MAX_STRING_LEN];
		snprintf(line, sizeof(line), "%lld %s:%lld -> %s:%lld %s %s %s",
			 (long long)json_integer_value(json_object_get(f, "proto")),
			 json_string_value(json_object_get(f, "src_ip")),
			 (long long)json_integer_value(json_object_get(f, "src_port")),
			 json_string_value(json_object_get(f, "dest_ip")),
			 (long long)json_integer_value(json_object_get(f, "dest_port")),
			 json_string_value(json_object_get(f, "verdict")),
			 json_string_value(json_object_get(f, "rule")),
			 json_string_value(json_object_get(f, "unit")));
		rte_tel_data_add_array_string(d, line);
	}
	json_decref(j);
	return 0;
}

int dp_telemetry_set(const struct dp_telemetry_src *src)
{
	pthread_mutex_lock(&lock);
	if (src)
		cur = *src;
	else
		memset(&cur, 0, sizeof(cur));
	int r = 0;
	if (src && !registered) {
		r = rte_telemetry_register_cmd("/egw/stats", cmd_stats,
					       "egw fast path counters. No parameters");
		if (!r)
			r = rte_telemetry_register_cmd("/egw/flows", cmd_flows,
						       "egw live flows (first 64). No parameters");
		registered = !r;
	}
	pthread_mutex_unlock(&lock);
	return r;
}
