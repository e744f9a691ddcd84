/*
 * What node/enroll.c and node/gate.c share.
 */
#ifndef TS_NODE_GATE_H
#define TS_NODE_GATE_H

#include "buf.h"

/* Appends `s` as one word for the login shell: as it is when it holds only
 * letters, digits and "/._+-,:@", else single-quoted (' written '\''). */
void ts_gate__shell_word(ts_buf *b, const char *s);

#endif
