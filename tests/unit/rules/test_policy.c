/* SPDX-License-Identifier: MIT */
/*
 * The policy loader: a good policy (tests/golden/policy/unit-test.cfg) comes
 * out element by element as written, with the line of each; defaults fill
 * what is not written; a bad policy reports every planted error at its line.
 */
#include <check.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <egw/addr.h>
#include <egw/diag.h>
#include <egw/policy.h>

#define POLICY_DIR EGW_SOURCE_DIR "/tests/golden/policy"
#define UNIT_CFG POLICY_DIR "/unit-test.cfg"

static struct egw_policy *load_ok(const char *path)
{
	struct egw_diag *d = egw_diag_new();
	ck_assert_ptr_nonnull(d);
	struct egw_policy *p = egw_policy_load(path, d);
	for (size_t i = 0; i < egw_diag_count(d); i++)
		fprintf(stderr, "unexpected: %s\n", egw_diag_message(d, i));
	ck_assert_uint_eq(egw_diag_count(d), 0);
	ck_assert_ptr_nonnull(p);
	egw_diag_free(d);
	return p;
}

static void assert_prefix(const struct egw_prefix *p, const char *want)
{
	char buf[EGW_PREFIX_STRLEN];
	ck_assert_str_eq(egw_prefix_format(p, buf, sizeof(buf)), want);
}

static void assert_loc(const struct egw_loc *l, const char *file_suffix, unsigned line)
{
	ck_assert_ptr_nonnull(l->file);
	size_t n = strlen(l->file), m = strlen(file_suffix);
	ck_assert_msg(n >= m && !strcmp(l->file + n - m, file_suffix),
		      "loc file %s does not end in %s", l->file, file_suffix);
	ck_assert_uint_eq(l->line, line);
}

static const char *geo_code(const struct egw_policy *p, const struct egw_geo_ref *r)
{
	ck_assert_uint_lt(r->cls, p->n_geo_classes);
	return p->geo_classes[r->cls].code;
}

/* The class dns.resolver_regions refers to. */
static uint16_t d_region_cls(const struct egw_policy *p)
{
	ck_assert_uint_eq(p->dns.n_resolver_regions, 1);
	return p->dns.resolver_regions[0].cls;
}

START_TEST(gateway_and_paths)
{
	struct egw_policy *p = load_ok(UNIT_CFG);
	char want[PATH_MAX];
	ck_assert_ptr_nonnull(realpath(UNIT_CFG, want));
	ck_assert_str_eq(p->path, want);
	ck_assert_int_eq(p->version, 1);

	const struct egw_gateway *g = &p->gateway;
	ck_assert_str_eq(g->inside, "net_af_packet0,iface=egw-in");
	ck_assert_str_eq(g->outside, "0000:03:00.0");
	ck_assert_str_eq(g->punt, "net_tap0,iface=egw-punt");
	ck_assert_uint_eq(g->workers, 2);
	ck_assert_uint_eq(g->flows, 1048576); /* default */
	ck_assert_int_eq(g->fail_mode, EGW_FAIL_OPEN);
	assert_loc(&g->loc, "unit-test.cfg", 6);
	assert_loc(&g->fail_mode_loc, "unit-test.cfg", 11);

	/* relative paths resolve against the policy's directory, normalised */
	char db[PATH_MAX];
	ck_assert_ptr_nonnull(realpath(EGW_FIXTURES_DIR "/mmdb/GeoIP2-City-Test.mmdb", db));
	char real_db[PATH_MAX];
	ck_assert_ptr_nonnull(realpath(p->geo.database, real_db));
	ck_assert_str_eq(real_db, db);
	ck_assert_ptr_null(strstr(p->geo.database, "/../"));
	ck_assert_int_eq(p->geo.database[0], '/');
	ck_assert_str_eq(p->geo.country_field, "country.iso_code");
	ck_assert_str_eq(p->geo.region_field, "subdivisions.0.iso_code");
	assert_loc(&p->geo.loc, "unit-test.cfg", 15);

	char dir[PATH_MAX];
	snprintf(dir, sizeof(dir), "%s", want);
	*strrchr(dir, '/') = '\0';
	char logdir[PATH_MAX + 16];
	snprintf(logdir, sizeof(logdir), "%s/egw-logs", dir);
	ck_assert_str_eq(p->log.directory, logdir);
	egw_policy_free(p);
}
END_TEST

START_TEST(units_and_terminals)
{
	struct egw_policy *p = load_ok(UNIT_CFG);
	ck_assert_uint_eq(p->n_units, 2);
	const struct egw_unit *f = &p->units[0], *lab = &p->units[1];
	ck_assert_str_eq(f->name, "finance");
	assert_loc(&f->loc, "unit-test.cfg", 19);
	ck_assert_uint_eq(f->prefixes.n, 2);
	assert_prefix(&f->prefixes.v[0], "10.1.0.0/16");
	assert_prefix(&f->prefixes.v[1], "2001:db8:1::/48");
	ck_assert_uint_eq(f->public_addresses.n, 2);
	assert_prefix(&f->public_addresses.v[0], "198.51.100.10");
	assert_prefix(&f->public_addresses.v[1], "198.51.100.16/28");
	ck_assert_uint_eq(f->profile, 0);
	ck_assert_str_eq(p->profiles[f->profile].name, "standard");

	ck_assert_uint_eq(f->n_terminals, 2);
	const struct egw_terminal *t = &f->terminals[0];
	assert_prefix(&t->ip, "10.1.0.10");
	ck_assert(egw_prefix_is_host(&t->ip));
	static const uint8_t mac0[6] = { 0x02, 0x00, 0x0a, 0x01, 0x00, 0x0a };
	ck_assert_mem_eq(t->mac, mac0, 6);
	ck_assert_str_eq(t->switch_port, "sw1/0/3");
	ck_assert_str_eq(t->location, "Building A 3F");
	ck_assert_str_eq(t->user, "zhang.wei");
	ck_assert_uint_eq(t->unit, 0);
	assert_loc(&t->loc, "unit-test.cfg", 25);

	t = &f->terminals[1];
	assert_prefix(&t->ip, "2001:db8:1::10");
	static const uint8_t mac1[6] = { 0x02, 0x00, 0x0a, 0x01, 0x00, 0x0b };
	ck_assert_mem_eq(t->mac, mac1, 6);
	ck_assert_str_eq(t->switch_port, "");
	ck_assert_str_eq(t->location, "");
	ck_assert_str_eq(t->user, "");
	assert_loc(&t->loc, "unit-test.cfg", 27);

	/* a nested unit: its own terminal is its own by longest-prefix match */
	ck_assert_str_eq(lab->name, "finance-lab");
	ck_assert_uint_eq(lab->prefixes.n, 1);
	assert_prefix(&lab->prefixes.v[0], "10.1.5.0/24");
	ck_assert_uint_eq(lab->public_addresses.n, 0);
	ck_assert_uint_eq(lab->profile, 1);
	ck_assert_uint_eq(lab->n_terminals, 1);
	ck_assert_str_eq(lab->terminals[0].user, "li.na");
	ck_assert_uint_eq(lab->terminals[0].unit, 1);

	/* no terminals section: strict binding, unregistered dropped, at line 0
	 * of the policy file */
	ck_assert_int_eq(p->terminals.binding, EGW_BINDING_STRICT);
	ck_assert_int_eq(p->terminals.unregistered, EGW_UNREG_DROP);
	assert_loc(&p->terminals.binding_loc, "unit-test.cfg", 0);
	assert_loc(&p->terminals.unregistered_loc, "unit-test.cfg", 0);

	ck_assert_int_eq(egw_policy_find_unit(p, "finance-lab"), 1);
	ck_assert_int_eq(egw_policy_find_unit(p, "nope"), -1);
	egw_policy_free(p);
}
END_TEST

START_TEST(dns_settings)
{
	struct egw_policy *p = load_ok(UNIT_CFG);
	const struct egw_dns *d = &p->dns;
	assert_loc(&d->loc, "unit-test.cfg", 40);
	ck_assert_uint_eq(d->resolvers.n, 2);
	assert_prefix(&d->resolvers.v[0], "198.51.100.53");
	assert_prefix(&d->resolvers.v[1], "2001:db8:53::1");
	assert_loc(&d->resolvers_loc, "unit-test.cfg", 41);
	ck_assert_uint_eq(d->n_resolver_regions, 1);
	ck_assert_str_eq(geo_code(p, &d->resolver_regions[0]), "CN-22");
	ck_assert(!d->resolver_regions[0].negate);
	ck_assert_int_eq(d->violation, EGW_DNSV_REDIRECT);
	assert_loc(&d->violation_loc, "unit-test.cfg", 43);
	ck_assert(d->has_redirect_v4);
	ck_assert(d->has_redirect_v6);
	assert_prefix(&d->redirect_v4, "198.51.100.53");
	assert_prefix(&d->redirect_v6, "2001:db8:53::1");
	ck_assert(d->block_dot);           /* default */
	assert_loc(&d->block_dot_loc, "unit-test.cfg", 0);
	ck_assert(!d->block_doh);
	assert_loc(&d->block_doh_loc, "unit-test.cfg", 45);
	ck_assert_uint_eq(d->suspicious.max_qname, 100); /* default */
	ck_assert_uint_eq(d->suspicious.max_label, 40);
	ck_assert(d->suspicious.min_entropy_bits == 3.0); /* int accepted */
	ck_assert_uint_eq(d->suspicious.max_queries_per_second, 50);
	assert_loc(&d->suspicious.loc, "unit-test.cfg", 46);
	egw_policy_free(p);
}
END_TEST

START_TEST(categories_and_rules)
{
	struct egw_policy *p = load_ok(UNIT_CFG);
	ck_assert_uint_eq(p->n_categories, 2);
	const struct egw_category *mail = &p->categories[0];
	ck_assert_str_eq(mail->name, "commercial-mail");
	ck_assert_uint_eq(mail->n_domains, 2);
	ck_assert_str_eq(mail->domains[0], "mail.qq.com"); /* lower case, no dot */
	ck_assert_str_eq(mail->domains[1], "gmail.com");
	assert_loc(&mail->domain_locs[1], "unit-test.cfg", 51);
	ck_assert_uint_eq(mail->addresses.n, 0);
	ck_assert_int_eq(p->doh_category, 1);
	ck_assert_uint_eq(p->categories[1].addresses.n, 2);
	assert_prefix(&p->categories[1].addresses.v[1], "2001:db8:ff::/48");

	ck_assert_uint_eq(p->n_profiles, 2);
	const struct egw_profile *std = &p->profiles[0];
	ck_assert_str_eq(std->name, "standard");
	assert_loc(&std->loc, "unit-test.cfg", 58);
	ck_assert_uint_eq(std->n_rules, 5);

	const struct egw_rule *r = &std->rules[0];
	ck_assert_int_eq(r->action, EGW_ACT_DENY);
	ck_assert_int_eq(r->category, 0);
	ck_assert_uint_eq(r->n_geo, 0);
	ck_assert_uint_eq(r->n_ports, 0);
	ck_assert_int_eq(r->proto, EGW_PROTO_ANY);
	assert_loc(&r->loc, "unit-test.cfg", 60);

	r = &std->rules[1];
	ck_assert_int_eq(r->action, EGW_ACT_PUNT);
	ck_assert_int_eq(r->category, -1);
	ck_assert_uint_eq(r->n_geo, 2);
	ck_assert_str_eq(geo_code(p, &r->geo[0]), "CN");
	ck_assert(r->geo[0].negate);
	ck_assert_str_eq(geo_code(p, &r->geo[1]), "US-WA");
	ck_assert(!r->geo[1].negate);
	ck_assert_int_eq(r->proto, EGW_PROTO_TCP);
	ck_assert_uint_eq(r->n_ports, 2);
	ck_assert_uint_eq(r->ports[0].lo, 22);
	ck_assert_uint_eq(r->ports[0].hi, 22);
	ck_assert_uint_eq(r->ports[1].lo, 3389);
	ck_assert_uint_eq(r->ports[1].hi, 3389);
	assert_loc(&r->loc, "unit-test.cfg", 61);

	r = &std->rules[2];
	ck_assert_int_eq(r->proto, EGW_PROTO_UDP);
	ck_assert_uint_eq(r->n_ports, 2);
	ck_assert_uint_eq(r->ports[0].lo, 53);
	ck_assert_uint_eq(r->ports[1].lo, 8000);
	ck_assert_uint_eq(r->ports[1].hi, 8080);
	ck_assert_uint_eq(r->dst.n, 1);
	assert_prefix(&r->dst.v[0], "192.0.2.0/24");
	assert_loc(&r->loc, "unit-test.cfg", 62);

	r = &std->rules[3];
	ck_assert_int_eq(r->proto, EGW_PROTO_ICMP);
	ck_assert_uint_eq(r->n_ports, 0);
	r = &std->rules[4];
	ck_assert_int_eq(r->proto, EGW_PROTO_ANY);
	ck_assert_uint_eq(r->n_ports, 1);
	ck_assert_uint_eq(r->ports[0].lo, 443);
	ck_assert_uint_eq(r->ports[0].hi, 443);
	assert_loc(&r->loc, "unit-test.cfg", 64);

	const struct egw_profile *res = &p->profiles[1];
	ck_assert_uint_eq(res->n_rules, 2);
	/* "CN" and "!CN" share one class; the class remembers its first use */
	ck_assert_uint_eq(res->rules[0].geo[0].cls, std->rules[1].geo[0].cls);
	ck_assert(!res->rules[0].geo[0].negate);
	ck_assert_uint_eq(res->rules[0].n_geo, 2);
	ck_assert_uint_eq(res->rules[0].geo[1].cls, d_region_cls(p));
	ck_assert_int_eq(res->rules[1].action, EGW_ACT_DENY);
	ck_assert_uint_eq(res->rules[1].n_geo + res->rules[1].dst.n + res->rules[1].n_ports, 0);
	assert_loc(&res->rules[1].loc, "unit-test.cfg", 69);

	ck_assert_uint_eq(p->n_geo_classes, 3);
	for (size_t i = 0; i < p->n_geo_classes; i++) {
		const struct egw_geo_class *g = &p->geo_classes[i];
		/* compiled from MaxMind's GeoIP2-City-Test.mmdb */
		if (!strcmp(g->code, "CN-22")) {
			ck_assert_str_eq(g->country, "CN");
			ck_assert_str_eq(g->region, "22");
			/* first use by line: dns (line 42), though dns is read after
			 * the profiles (line 68 uses it too) */
			assert_loc(&g->loc, "unit-test.cfg", 42);
			ck_assert_uint_eq(g->v4.n, 1);
			assert_prefix(&g->v4.v[0], "175.16.199.0/24");
			ck_assert_uint_eq(g->v6.n, 0);
		} else if (!strcmp(g->code, "CN")) {
			ck_assert_str_eq(g->region, "");
			assert_loc(&g->loc, "unit-test.cfg", 61);
			ck_assert_uint_eq(g->v4.n, 1);
			assert_prefix(&g->v4.v[0], "175.16.199.0/24");
			ck_assert_uint_ge(g->v6.n, 1);
			assert_prefix(&g->v6.v[0], "2001:250::/31");
		} else {
			ck_assert_str_eq(g->code, "US-WA");
			ck_assert_uint_eq(g->v4.n, 2);
			assert_prefix(&g->v4.v[0], "216.160.83.56/29");
			assert_prefix(&g->v4.v[1], "216.160.83.64/29");
		}
	}
	ck_assert_int_eq(egw_policy_find_profile(p, "restricted"), 1);
	ck_assert_int_eq(egw_policy_find_category(p, "doh"), 1);
	ck_assert_int_eq(egw_policy_find_category(p, "Doh"), -1);
	egw_policy_free(p);
}
END_TEST

START_TEST(log_settings)
{
	struct egw_policy *p = load_ok(UNIT_CFG);
	const struct egw_log_cfg *l = &p->log;
	assert_loc(&l->loc, "unit-test.cfg", 73);
	ck_assert_uint_eq(l->retention_days, 90);
	assert_loc(&l->retention_loc, "unit-test.cfg", 75);
	ck_assert_int_eq(l->compress, EGW_COMPRESS_NONE);
	ck_assert_int_eq(l->syslog_proto, EGW_SYSLOG_TCP);
	ck_assert_str_eq(l->syslog_host, "2001:db8::514");
	ck_assert_uint_eq(l->syslog_port, 6514);
	egw_policy_free(p);
}
END_TEST

/* Writes text to a fresh file in a fresh directory; returns its path. */
static char *write_tmp(const char *text, char *dir, size_t cap)
{
	snprintf(dir, cap, "/tmp/egw-test-policy-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	char *path = NULL;
	ck_assert_int_ge(asprintf(&path, "%s/p.cfg", dir), 0);
	FILE *f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void remove_tmp(char *path, const char *dir)
{
	unlink(path);
	rmdir(dir);
	free(path);
}

START_TEST(defaults)
{
	char dir[64];
	char *path = write_tmp(
		"version = 1;\n"
		"gateway: { inside = \"i\"; outside = \"o\"; punt = \"p\"; };\n"
		"units = ( { name = \"u\"; prefixes = [ \"10.0.0.0/8\" ]; profile = \"d\"; } );\n"
		"profiles = ( { name = \"d\"; rules = ( ); } );\n", dir, sizeof(dir));
	struct egw_policy *p = load_ok(path);
	ck_assert_uint_eq(p->gateway.workers, 1);
	ck_assert_uint_eq(p->gateway.flows, 1048576);
	ck_assert_int_eq(p->gateway.fail_mode, EGW_FAIL_CLOSED);
	ck_assert_str_eq(p->log.directory, "/var/log/egw");
	ck_assert_uint_eq(p->log.retention_days, 180);
	ck_assert_int_eq(p->log.compress, EGW_COMPRESS_ZSTD);
	ck_assert_int_eq(p->log.syslog_proto, EGW_SYSLOG_NONE);
	ck_assert_ptr_null(p->log.syslog_host);
	ck_assert_uint_eq(p->log.retention_loc.line, 0);
	ck_assert_str_eq(p->log.retention_loc.file, path);
	ck_assert_int_eq(p->dns.violation, EGW_DNSV_DROP);
	ck_assert(p->dns.block_dot && p->dns.block_doh);
	ck_assert(!p->dns.has_redirect_v4 && !p->dns.has_redirect_v6);
	ck_assert_uint_eq(p->dns.resolvers.n, 0);
	ck_assert_uint_eq(p->dns.suspicious.max_qname, 100);
	ck_assert_uint_eq(p->dns.suspicious.max_label, 52);
	ck_assert(p->dns.suspicious.min_entropy_bits == 4.0);
	ck_assert_uint_eq(p->dns.suspicious.max_queries_per_second, 50);
	ck_assert_ptr_null(p->geo.database);
	ck_assert_uint_eq(p->n_geo_classes, 0);
	ck_assert_uint_eq(p->n_categories, 0);
	ck_assert_int_eq(p->doh_category, -1);
	ck_assert_uint_eq(p->profiles[0].n_rules, 0);
	ck_assert_uint_eq(p->units[0].n_terminals, 0);
	egw_policy_free(p);
	remove_tmp(path, dir);
}
END_TEST

START_TEST(relative_include_and_log_dir)
{
	char dir[64];
	char *path = write_tmp(
		"version = 1;\n"
		"@include \"gw.inc\"\n"
		"units = ( { name = \"u\"; prefixes = [ \"10.0.0.0/8\" ]; profile = \"d\"; } );\n"
		"profiles = ( { name = \"d\"; rules = ( { action = \"allow\"; } ); } );\n"
		"log: { directory = \"./var//log/\"; };\n", dir, sizeof(dir));
	char inc[128];
	snprintf(inc, sizeof(inc), "%s/gw.inc", dir);
	FILE *f = fopen(inc, "w");
	ck_assert_ptr_nonnull(f);
	fputs("# included\ngateway: { inside = \"i\"; outside = \"o\"; punt = \"p\"; };\n", f);
	fclose(f);

	/* load through a relative name from another directory */
	char cwd[PATH_MAX];
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir("/tmp"), 0);
	struct egw_policy *p = load_ok(path + strlen("/tmp/"));
	ck_assert_int_eq(chdir(cwd), 0);

	char want[128];
	snprintf(want, sizeof(want), "%s/var/log", dir);
	ck_assert_str_eq(p->log.directory, want);
	/* the gateway's location is in the included file */
	ck_assert_uint_eq(p->gateway.loc.line, 2);
	ck_assert_ptr_nonnull(strstr(p->gateway.loc.file, "gw.inc"));
	ck_assert_uint_eq(p->profiles[0].rules[0].loc.line, 4);
	egw_policy_free(p);
	unlink(inc);
	remove_tmp(path, dir);
}
END_TEST

START_TEST(names_and_loc_format)
{
	ck_assert_str_eq(egw_action_name(EGW_ACT_ALLOW), "allow");
	ck_assert_str_eq(egw_action_name(EGW_ACT_DENY), "deny");
	ck_assert_str_eq(egw_action_name(EGW_ACT_PUNT), "punt");
	ck_assert_str_eq(egw_proto_name(EGW_PROTO_ANY), "any");
	ck_assert_str_eq(egw_proto_name(EGW_PROTO_ICMP), "icmp");
	ck_assert_str_eq(egw_proto_name(EGW_PROTO_TCP), "tcp");
	ck_assert_str_eq(egw_proto_name(EGW_PROTO_UDP), "udp");
	char buf[64];
	struct egw_loc l = { "/etc/egw/egw.cfg", 42 };
	ck_assert_str_eq(egw_loc_format(&l, false, buf, sizeof(buf)), "egw.cfg:42");
	ck_assert_str_eq(egw_loc_format(&l, true, buf, sizeof(buf)), "/etc/egw/egw.cfg:42");
	l.line = 0;
	ck_assert_str_eq(egw_loc_format(&l, false, buf, sizeof(buf)), "egw.cfg");
	char small[6];
	ck_assert_str_eq(egw_loc_format(&(struct egw_loc){ "abcdefgh", 1 }, false, small,
					sizeof(small)), "abcde");
}
END_TEST

/*
 * bad/many-errors.cfg marks each line with a planted error with a comment
 * containing "ERROR"; every marked line must be reported, and nothing else.
 */
START_TEST(every_planted_error_reported_at_its_line)
{
	const char *path = POLICY_DIR "/bad/many-errors.cfg";
	FILE *f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	bool marked[512] = { false };
	char line[1024];
	unsigned n = 0, planted = 0;
	while (fgets(line, sizeof(line), f)) {
		n++;
		ck_assert_uint_lt(n, 512);
		if (strstr(line, "ERROR")) {
			marked[n] = true;
			planted++;
		}
	}
	fclose(f);
	ck_assert_uint_ge(planted, 15);

	struct egw_diag *d = egw_diag_new();
	struct egw_policy *p = egw_policy_load(path, d);
	ck_assert_ptr_null(p);
	bool seen[512] = { false };
	for (size_t i = 0; i < egw_diag_count(d); i++) {
		unsigned l = egw_diag_line(d, i);
		ck_assert_msg(l < 512 && marked[l], "error at an unmarked line: %s",
			      egw_diag_message(d, i));
		seen[l] = true;
	}
	for (unsigned l = 1; l <= n; l++)
		ck_assert_msg(!marked[l] || seen[l], "no error reported at line %u", l);
	egw_diag_free(d);
}
END_TEST

START_TEST(missing_file_and_syntax_error)
{
	struct egw_diag *d = egw_diag_new();
	errno = 0;
	ck_assert_ptr_null(egw_policy_load("/nonexistent/egw.cfg", d));
	ck_assert_uint_eq(egw_diag_count(d), 1);
	ck_assert_ptr_nonnull(strstr(egw_diag_message(d, 0), "/nonexistent/egw.cfg: "));
	egw_diag_free(d);

	char dir[64];
	char *path = write_tmp("version = 1;\n\ngateway: { inside = ; };\n", dir,
			       sizeof(dir));
	d = egw_diag_new();
	ck_assert_ptr_null(egw_policy_load(path, d));
	ck_assert_uint_eq(egw_diag_count(d), 1);
	ck_assert_uint_eq(egw_diag_line(d, 0), 3);
	ck_assert_ptr_nonnull(strstr(egw_diag_message(d, 0), "syntax error"));
	/* the parts of "file:line: message", as policy check --json gives them */
	ck_assert_str_eq(egw_diag_file(d, 0), path);
	char whole[512];
	snprintf(whole, sizeof(whole), "%s:3: %s", path, egw_diag_text(d, 0));
	ck_assert_str_eq(whole, egw_diag_message(d, 0));
	ck_assert_ptr_null(egw_diag_text(d, 1));
	egw_diag_free(d);
	remove_tmp(path, dir);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("policy");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, gateway_and_paths);
	tcase_add_test(tc, units_and_terminals);
	tcase_add_test(tc, dns_settings);
	tcase_add_test(tc, categories_and_rules);
	tcase_add_test(tc, log_settings);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, relative_include_and_log_dir);
	tcase_add_test(tc, names_and_loc_format);
	tcase_add_test(tc, every_planted_error_reported_at_its_line);
	tcase_add_test(tc, missing_file_and_syntax_error);
	suite_add_tcase(s, tc);
	SRunner *sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	int failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
