/*
 * procinfo.h: what a program says about itself to its operator: the
 * --version line (configure's PACKAGE_VERSION and the git revision the
 * sources were configured from) and, for the daemons' /metrics, the
 * vdi_build_info metric and the Prometheus process_* metrics of the
 * calling process, read from /proc/self.
 */
#ifndef VDI_PROCINFO_H
#define VDI_PROCINFO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "vdierr.h"

/* Prints "PROG VERSION" or "PROG VERSION (git REV)" and a newline to f. */
void vdi_version_print(FILE *f, const char *prog);

/* The version text ("0.1.0" or "0.1.0 (git REV)"), static storage. */
const char *vdi_version_text(void);

struct vdi_procstat {
	double start_time;  /* unix seconds the process started */
	double cpu_seconds; /* user + system */
	uint64_t rss_bytes;
	uint64_t virtual_bytes;
	uint64_t open_fds;
	uint64_t max_fds; /* RLIMIT_NOFILE soft limit */
};

/* Reads the calling process's figures. Returns 0, or VDI_ERR_IO when
 * /proc/self cannot be read (*ps is then zeroed). */
int vdi_procstat_read(struct vdi_procstat *ps) VDI_WUR;

/* Writes the Prometheus text of vdi_build_info{version,revision} 1 and
 * the process_* metrics (process_start_time_seconds,
 * process_cpu_seconds_total, process_resident_memory_bytes,
 * process_virtual_memory_bytes, process_open_fds, process_max_fds) into
 * buf (NUL-terminated, truncated to len). Returns the length it needed,
 * as snprintf does. The process_* lines are left out when /proc cannot be
 * read. */
size_t vdi_procinfo_metrics(char *buf, size_t len);

#endif
