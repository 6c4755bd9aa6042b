/* daemonopt.c: the daemons' shared option loop. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>

#include "daemonopt.h"
#include "procinfo.h"

int
vdi_daemon_options(int argc, char **argv, const char *prog, const char *usage,
    struct vdi_daemon_opts *o)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "df:hl:P:tV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'd':
			o->foreground = 1;
			break;
		case 'f':
			o->conf = optarg;
			break;
		case 'l':
			if (vlog_level_parse(optarg, &o->level) != 0) {
				fprintf(stderr, "%s: -l %s: not a level\n",
				    prog, optarg);
				fputs(usage, stderr);
				return 2;
			}
			break;
		case 'P':
			o->port_file = optarg;
			break;
		case 't':
			o->check = 1;
			o->foreground = 1;
			break;
		case 'V':
			vdi_version_print(stdout, prog);
			return 0;
		case 'h':
			fputs(usage, stderr);
			return 0;
		default:
			fputs(usage, stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "%s: unexpected argument \"%s\"\n", prog,
		    argv[optind]);
		fputs(usage, stderr);
		return 2;
	}
	return -1;
}
