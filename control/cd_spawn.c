/* SPDX-License-Identifier: MIT */
/* posix_spawn of helpers with a fixed argv. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cd_spawn.h"

int cd_spawn(const char *const argv[], bool quiet)
{
	char *args[32];
	size_t n = 0;

	posix_spawn_file_actions_t fa;
	char *const envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
	pid_t pid;
	int rc, st;

	while (argv[n] && n < 31)
		n++;
	if (argv[n])
		return -E2BIG;
	memcpy(args, argv, (n + 1) * sizeof(args[0])); /* posix_spawn's argv is not const */
	if (posix_spawn_file_actions_init(&fa))
		return -ENOMEM;
	if (quiet) {
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
		posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	}
	rc = posix_spawn(&pid, args[0], &fa, NULL, args, envp);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -rc;
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return -ECHILD;
}

const char *cd_spawn_find(const char *const *candidates)
{
	for (; *candidates; candidates++)
		if (access(*candidates, X_OK) == 0)
			return *candidates;
	return NULL;
}
