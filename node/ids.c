/*
 * Node ids and tiers: the names every other file of node/ reads. An id is
 * dot-separated labels (bj → bj.dc → bj.dc.jingshan → bj.dc.jingshan.d07),
 * so a node's jurisdiction is itself and every id that extends it by whole
 * labels; the engine's ownership rules read ids the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "node.h"
#include "ownership.h"
#include "tiersync.h"

static const char *const tier_names[] = { "city", "district", "street", "device" };

const char *ts_tier_name(ts_tier tier)
{
	return (unsigned)tier < 4 ? tier_names[tier] : NULL;
}

int ts_tier_parse(ts_tier *out, const char *name)
{
	int i;
	for (i = 0; i < 4; i++)
		if (name && !strcmp(name, tier_names[i])) {
			*out = (ts_tier)i;
			return 0;
		}
	return ts_error_set(TS_EINVALID, "unknown tier '%s' (city, district, street or device)", name ? name : "");
}

int ts_node_id_valid(const char *id)
{
	const char *p;
	size_t label = 0;

	if (!id || !*id || strlen(id) > 64)
		return 0;
	for (p = id; *p; p++) {
		if (*p == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || (*p == '_' && label > 0)) {
			label++;
		} else
			return 0;
	}
	return label > 0;
}

int ts_jurisdiction_covers(const char *scope, const char *id)
{
	return ts_ownership__in_jurisdiction(scope, id);
}

char *ts_node__phone_digits(const char *given)
{
	char *out;
	size_t n = 0;

	if (!given || !(out = malloc(strlen(given) + 1)))
		return NULL;
	for (; *given; given++) {
		if (*given >= '0' && *given <= '9')
			out[n++] = *given;
		else if (*given != ' ' && *given != '-') {
			free(out);
			return NULL;
		}
	}
	out[n] = '\0';
	if (n < 5 || n > TS_NODE_PHONE_DIGITS) {
		free(out);
		return NULL;
	}
	return out;
}
