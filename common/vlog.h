/*
 * vlog.h: one log line per event, key=value fields.
 *
 *   vlog(VLOG_INFO, "tls_accept", "peer=%s thumbprint=%s", peer, thumb);
 *
 * prints (stderr):
 *   2026-11-21T09:00:00.123Z vdi-gatewayd[4242] level=info event=tls_accept
 * peer=...
 *
 * or sends "level=info event=tls_accept peer=..." to syslog with the
 * matching priority. When stderr is a journald stream (JOURNAL_STREAM
 * names it: a systemd unit with StandardError=journal), each stderr line
 * starts with the sd-daemon(3) priority prefix ("<3>" error ... "<7>"
 * debug), so that `journalctl -p err` finds errors. Values that may contain
 * spaces, quotes or control characters go through vlog_quote(). Secrets are
 * never passed to vlog.
 */
#ifndef VDI_VLOG_H
#define VDI_VLOG_H

#include <stddef.h>

enum vlog_level {
	VLOG_DEBUG = 0,
	VLOG_INFO,
	VLOG_NOTICE,
	VLOG_WARNING,
	VLOG_ERROR,
};

enum vlog_target {
	VLOG_STDERR = 0,
	VLOG_SYSLOG,
};

/* Sets the program name, where lines go and the lowest level printed, and
 * (VLOG_STDERR) whether stderr is the journal (JOURNAL_STREAM matches its
 * device and inode). Safe to call again (e.g. after daemonising or
 * redirecting stderr). ident is copied. */
void vlog_init(
    const char *ident, enum vlog_target target, enum vlog_level min_level);

/* Parses "debug", "info", "notice", "warning", "error". Returns 0 and sets
 * *level, or VDI_ERR_INVALID_ARG. */
int vlog_level_parse(const char *s, enum vlog_level *level);

/* Returns the lower-case name of a level. */
const char *vlog_level_name(enum vlog_level level);

/* Logs one event. event is a short snake_case name; fmt formats the
 * key=value fields (may be NULL for none). Thread-safe: one write per line. */
void vlog(enum vlog_level level, const char *event, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Writes s into out as a log value: unchanged when it has only safe
 * characters (letters, digits and -_.:/@+,#%[]), else in double quotes with
 * \" \\ and \xNN escapes for control bytes, bytes that are not well-formed
 * UTF-8 and the Unicode characters that break or reorder a line (C1
 * controls, U+2028/U+2029, bidirectional controls). NULL reads as "". The
 * result is always one field, NUL-terminated and truncated to fit outlen
 * (outlen >= 3; a truncated value keeps its closing quote). Returns out. */
char *vlog_quote(const char *s, char *out, size_t outlen);

/* Room VLOG_Q gives a value (quotes and escapes included). */
#define VLOG_QUOTE_MAX 512

/* Every value a peer controls (user names, PAM texts, certificate
 * subjects, channel names, paths, headers, reasons quoting peer text) is
 * logged through VLOG_Q:
 *
 *   vlog(VLOG_NOTICE, "login_timeout", "user=%s", VLOG_Q(user));
 *
 * It expands to vlog_quote() into a compound literal, a buffer that lives
 * until the end of the enclosing block, so several may appear in one
 * call. */
#define VLOG_Q(s) vlog_quote((s), (char[VLOG_QUOTE_MAX]){ 0 }, VLOG_QUOTE_MAX)

#endif
