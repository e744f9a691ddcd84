/*
 * Admission of what a lower node offers: the checks that run before a
 * submission's ref moves (the gate) and before it is merged.
 */
#include <string.h>

#include "node.h"

int ts_node_admit(ts_node *node, const char *from, const char *commit_hex, const char *objects_dir)
{
	(void)objects_dir;
	if (!node || !from || !ts_node_id_valid(from) || !commit_hex || strlen(commit_hex) != 40)
		return ts_error_set(TS_EINVALID, "admission needs a node id and a commit id");
	return 0;
}
