/*
 * daemonopt.h: the command line both daemons (vdi-brokerd, vdi-gatewayd)
 * take: [-d] [-t] [-l level] [-P port-file] [-f config] [-V] [-h].
 */
#ifndef VDI_DAEMONOPT_H
#define VDI_DAEMONOPT_H

#include "vlog.h"

struct vdi_daemon_opts {
	const char *conf;      /* -f FILE; the caller sets the default */
	const char *port_file; /* -P FILE: write the listening port there */
	enum vlog_level level; /* -l LEVEL; the caller sets the default */
	int check;             /* -t: check everything and exit (implies -d) */
	int foreground;        /* -d: log to stderr instead of syslog */
};

/*
 * Parses argv into o (filled with the defaults beforehand). usage is the
 * daemon's help text. Returns -1 when the daemon should go on; else the
 * status main() exits with: 0 after -h/--help (usage on stderr) or
 * -V/--version ("PROG VERSION" on stdout), 2 after a usage error (bad
 * option, bad level, stray argument; usage on stderr).
 */
int vdi_daemon_options(int argc, char **argv, const char *prog,
    const char *usage, struct vdi_daemon_opts *o);

#endif
