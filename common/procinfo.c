/* procinfo.c: version text and process metrics (see procinfo.h). */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "procinfo.h"

#ifndef VDI_GIT_REVISION
#define VDI_GIT_REVISION ""
#endif

const char *
vdi_version_text(void)
{
	static char text[128];

	if (text[0] == '\0')
		snprintf(text, sizeof(text), "%s%s%s%s", PACKAGE_VERSION,
		    VDI_GIT_REVISION[0] != '\0' ? " (git " : "",
		    VDI_GIT_REVISION, VDI_GIT_REVISION[0] != '\0' ? ")" : "");
	return text;
}

void
vdi_version_print(FILE *f, const char *prog)
{
	fprintf(f, "%s %s\n", prog, vdi_version_text());
}

/* The boot time (btime of /proc/stat), 0 when unknown. */
static double
boot_time(void)
{
	char line[256];
	double t = 0;
	FILE *f;

	if ((f = fopen("/proc/stat", "re")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "btime ", 6) == 0) {
			t = strtod(line + 6, NULL);
			break;
		}
	fclose(f);
	return t;
}

int
vdi_procstat_read(struct vdi_procstat *ps)
{
	char buf[1024], *p, *save = NULL;
	unsigned long long utime = 0, stime = 0, start = 0, vsize = 0;
	long long rss = 0;
	long tck = sysconf(_SC_CLK_TCK), page = sysconf(_SC_PAGESIZE);
	struct rlimit rl;
	struct dirent *de;
	size_t n;
	FILE *f;
	DIR *d;
	int field;

	memset(ps, 0, sizeof(*ps));
	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return VDI_ERR_IO;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* pid (comm) state ppid ...: comm may hold spaces and parentheses,
	 * so fields are counted from the last ')': state is field 3. */
	if ((p = strrchr(buf, ')')) == NULL)
		return VDI_ERR_IO;
	for (field = 3, p = strtok_r(p + 1, " ", &save); p != NULL;
	     p = strtok_r(NULL, " ", &save), field++) {
		switch (field) {
		case 14:
			utime = strtoull(p, NULL, 10);
			break;
		case 15:
			stime = strtoull(p, NULL, 10);
			break;
		case 22:
			start = strtoull(p, NULL, 10);
			break;
		case 23:
			vsize = strtoull(p, NULL, 10);
			break;
		case 24:
			rss = strtoll(p, NULL, 10);
			break;
		}
		if (field == 24)
			break;
	}
	if (field != 24 || tck <= 0 || page <= 0)
		return VDI_ERR_IO;
	ps->cpu_seconds = (double)(utime + stime) / (double)tck;
	ps->start_time = boot_time() + (double)start / (double)tck;
	ps->rss_bytes = rss > 0 ? (uint64_t)rss * (uint64_t)page : 0;
	ps->virtual_bytes = vsize;
	if ((d = opendir("/proc/self/fd")) != NULL) {
		while ((de = readdir(d)) != NULL)
			if (de->d_name[0] != '.')
				ps->open_fds++;
		closedir(d);
		if (ps->open_fds > 0)
			ps->open_fds--; /* the one opendir holds */
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		ps->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : rl.rlim_cur;
	return 0;
}

size_t
vdi_procinfo_metrics(char *buf, size_t len)
{
	struct vdi_procstat ps;
	int n, m = 0;

	n = snprintf(buf, len,
	    "# HELP vdi_build_info The version running (labels), always 1.\n"
	    "# TYPE vdi_build_info gauge\n"
	    "vdi_build_info{version=\"%s\",revision=\"%s\"} 1\n",
	    PACKAGE_VERSION, VDI_GIT_REVISION);
	if (n < 0)
		return 0;
	if (vdi_procstat_read(&ps) == 0)
		m = snprintf((size_t)n < len ? buf + n : NULL,
		    (size_t)n < len ? len - (size_t)n : 0,
		    "# HELP process_start_time_seconds Start time of the "
		    "process since the Unix epoch in seconds.\n"
		    "# TYPE process_start_time_seconds gauge\n"
		    "process_start_time_seconds %.2f\n"
		    "# HELP process_cpu_seconds_total Total user and system "
		    "CPU time spent in seconds.\n"
		    "# TYPE process_cpu_seconds_total counter\n"
		    "process_cpu_seconds_total %.2f\n"
		    "# HELP process_resident_memory_bytes Resident memory "
		    "size in bytes.\n"
		    "# TYPE process_resident_memory_bytes gauge\n"
		    "process_resident_memory_bytes %llu\n"
		    "# HELP process_virtual_memory_bytes Virtual memory size "
		    "in bytes.\n"
		    "# TYPE process_virtual_memory_bytes gauge\n"
		    "process_virtual_memory_bytes %llu\n"
		    "# HELP process_open_fds Number of open file "
		    "descriptors.\n"
		    "# TYPE process_open_fds gauge\n"
		    "process_open_fds %llu\n"
		    "# HELP process_max_fds Maximum number of open file "
		    "descriptors.\n"
		    "# TYPE process_max_fds gauge\n"
		    "process_max_fds %llu\n",
		    ps.start_time, ps.cpu_seconds,
		    (unsigned long long)ps.rss_bytes,
		    (unsigned long long)ps.virtual_bytes,
		    (unsigned long long)ps.open_fds,
		    (unsigned long long)ps.max_fds);
	return (size_t)n + (m > 0 ? (size_t)m : 0);
}
