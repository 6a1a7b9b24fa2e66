/* SPDX-License-Identifier: MIT */
/* libnftables runner. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <nftables/libnftables.h>

#include "cd_nft.h"

static int run(const char *buf, bool dry_run, char **out, char **err)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	int rc;

	if (out)
		*out = NULL;
	if (err)
		*err = NULL;
	if (!ctx) {
		if (err)
			*err = strdup("libnftables: cannot create a context");
		return -1;
	}
	nft_ctx_set_dry_run(ctx, dry_run);
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	rc = nft_run_cmd_from_buffer(ctx, buf);
	if (out) {
		const char *o = nft_ctx_get_output_buffer(ctx);
		*out = strdup(o ? o : "");
	}
	if (rc && err) {
		const char *e = nft_ctx_get_error_buffer(ctx);
		*err = strdup(e && *e ? e : "nftables: transaction failed");
	}
	nft_ctx_free(ctx);
	return rc ? -1 : 0;
}

int cd_nft_run(const char *buf, bool dry_run, char **err)
{
	return run(buf, dry_run, NULL, err);
}

int cd_nft_query(const char *buf, char **out, char **err)
{
	return run(buf, false, out, err);
}
