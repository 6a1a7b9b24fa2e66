/* SPDX-License-Identifier: MIT */
/* Table replacement under running workers (dp_swap, rte_rcu_qsbr): two
 * worker lcores hold the tables across their loops and "rebind" slowly;
 * after every publish both hold the new tables and none ever read tables
 * the main thread had retired; a worker that stops reporting makes publish
 * fail naming it; an offline worker does not hold anything up. */
#include <check.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "dp_swap.h"
#include "eal_fixture.h"

#define NW 2
#define LIVE 0x11u
#define RETIRED 0xdeu

struct fake_tables {
	atomic_uint magic;
};

struct wk {
	unsigned id;
	struct dp_swap *s;
	_Atomic(const struct fake_tables *) held;  /* what the worker uses */
	atomic_uint bad;           /* reads of retired tables */
	atomic_uint rebinds;
	atomic_int hang_ms;        /* > 0: stop reporting for this long, once */
	atomic_int offline;        /* 1: go offline and idle; 2: offline now */
	atomic_int stop;
};

static struct wk wks[NW];

static void nap_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

static void use(struct wk *k, const struct fake_tables *t)
{
	if (atomic_load(&t->magic) != LIVE)
		atomic_fetch_add(&k->bad, 1);
}

static int worker(void *arg)
{
	struct wk *k = arg;
	const struct fake_tables *mine = dp_swap_online(k->s, k->id);
	atomic_store(&k->held, mine);
	while (!atomic_load(&k->stop)) {
		int h = atomic_exchange(&k->hang_ms, 0);
		if (h > 0)
			nap_us(h * 1000L);   /* stuck: no quiescent state */
		if (atomic_load(&k->offline) == 1) {
			dp_swap_offline(k->s, k->id);
			atomic_store(&k->offline, 2);
			while (atomic_load(&k->offline) == 2 && !atomic_load(&k->stop))
				nap_us(200);
			mine = dp_swap_online(k->s, k->id);
			atomic_store(&k->held, mine);
			continue;
		}
		dp_swap_quiescent(k->s, k->id);
		const struct fake_tables *nt = dp_swap_current(k->s);
		if (nt != mine) {
			/* A slow rebind: old and new both in use for a while. */
			use(k, mine);
			nap_us(300);
			use(k, mine);
			use(k, nt);
			mine = nt;
			atomic_store(&k->held, mine);
			atomic_fetch_add(&k->rebinds, 1);
		}
		use(k, mine);     /* the packets of this iteration */
		nap_us(50);
		use(k, mine);
	}
	dp_swap_offline(k->s, k->id);
	return 0;
}

static struct fake_tables *fresh(void)
{
	struct fake_tables *t = calloc(1, sizeof(*t));
	ck_assert_ptr_nonnull(t);
	atomic_store(&t->magic, LIVE);
	return t;
}

static void start(struct dp_swap *s, const struct fake_tables *t0)
{
	ck_assert_int_eq(dp_swap_init(s, NW, t0), 0);
	unsigned lc, i = 0;
	RTE_LCORE_FOREACH_WORKER(lc) {
		if (i == NW)
			break;
		wks[i] = (struct wk){ .id = i, .s = s };
		ck_assert_int_eq(rte_eal_remote_launch(worker, &wks[i], lc), 0);
		i++;
	}
	ck_assert_uint_eq(i, NW);
	for (i = 0; i < NW; i++)
		while (!atomic_load(&wks[i].held))
			nap_us(100);
}

static void finish(struct dp_swap *s)
{
	for (unsigned i = 0; i < NW; i++)
		atomic_store(&wks[i].stop, 1);
	rte_eal_mp_wait_lcore();
	dp_swap_fini(s);
}

/* An assertion while the workers run: stop them first when it fails (a
 * failed check leaves the test at once, CK_NOFORK). */
#define RUN_ASSERT(s, cond) \
	do { \
		if (!(cond)) { \
			finish(s); \
			ck_assert_msg(0, "failed: %s", #cond); \
		} \
	} while (0)

START_TEST(publish_waits_until_every_worker_left_the_old_tables)
{
	struct dp_swap s;
	enum { N = 60 };
	struct fake_tables *t[N + 1];
	t[0] = fresh();
	start(&s, t[0]);
	for (int i = 1; i <= N; i++) {
		unsigned stuck = 99;
		t[i] = fresh();
		RUN_ASSERT(&s, dp_swap_publish(&s, t[i], 5000, &stuck) == 0);
		/* Both workers hold the new tables: the old ones are free. */
		for (unsigned k = 0; k < NW; k++)
			RUN_ASSERT(&s, atomic_load(&wks[k].held) == t[i]);
		atomic_store(&t[i - 1]->magic, RETIRED);
	}
	finish(&s);
	for (unsigned k = 0; k < NW; k++) {
		ck_assert_uint_eq(atomic_load(&wks[k].bad), 0);
		ck_assert_uint_eq(atomic_load(&wks[k].rebinds), N);
	}
	for (int i = 0; i <= N; i++)
		free(t[i]);
}
END_TEST

START_TEST(a_stuck_worker_is_named_and_an_offline_one_waits_for_nothing)
{
	struct dp_swap s;
	struct fake_tables *a = fresh(), *b = fresh(), *c = fresh(), *d = fresh();
	start(&s, a);

	/* Worker 1 stops reporting for longer than publish waits. */
	atomic_store(&wks[1].hang_ms, 1500);
	nap_us(20000);
	unsigned stuck = 99;
	RUN_ASSERT(&s, dp_swap_publish(&s, b, 200, &stuck) == -ETIMEDOUT);
	RUN_ASSERT(&s, stuck == 1);
	RUN_ASSERT(&s, dp_swap_current(&s) == b);   /* in force all the same */
	/* Once it moves on, the next publish completes. */
	RUN_ASSERT(&s, dp_swap_publish(&s, c, 5000, &stuck) == 0);
	for (unsigned k = 0; k < NW; k++)
		RUN_ASSERT(&s, atomic_load(&wks[k].held) == c);

	/* Worker 0 offline: publish waits for worker 1 only; worker 0 comes
	 * back holding the tables in force. */
	atomic_store(&wks[0].offline, 1);
	while (atomic_load(&wks[0].offline) != 2)
		nap_us(100);
	RUN_ASSERT(&s, dp_swap_publish(&s, d, 5000, &stuck) == 0);
	RUN_ASSERT(&s, atomic_load(&wks[1].held) == d);
	atomic_store(&wks[0].offline, 0);
	while (atomic_load(&wks[0].held) != d)
		nap_us(100);
	finish(&s);
	for (unsigned k = 0; k < NW; k++)
		ck_assert_uint_eq(atomic_load(&wks[k].bad), 0);
	free(a);
	free(b);
	free(c);
	free(d);
}
END_TEST

START_TEST(init_refuses_no_workers)
{
	struct dp_swap s;
	ck_assert_int_eq(dp_swap_init(&s, 0, NULL), -EINVAL);
}
END_TEST

int main(int argc, char **argv)
{
	(void)argc;
	/* Three lcores (main + two workers) as threads on CPU 0: a machine
	 * with one CPU runs this too. */
	char *eal[] = { argv[0], (char *)"--no-huge", (char *)"-m", (char *)"64",
			(char *)"--no-pci", (char *)"--no-shconf", (char *)"--lcores=(0-2)@0",
			(char *)"--log-level=error", (char *)"--no-telemetry", NULL };
	if (rte_eal_init(9, eal) < 0) {
		fprintf(stderr, "%s: cannot initialise the DPDK EAL\n", argv[0]);
		return 2;
	}
	Suite *s = suite_create("dp_swap");
	TCase *tc = tcase_create("swap");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, publish_waits_until_every_worker_left_the_old_tables);
	tcase_add_test(tc, a_stuck_worker_is_named_and_an_offline_one_waits_for_nothing);
	tcase_add_test(tc, init_refuses_no_workers);
	suite_add_tcase(s, tc);
	return eal_fixture_run(s);
}
