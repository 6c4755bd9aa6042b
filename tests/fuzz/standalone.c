/*
 * standalone.c: runs a libFuzzer harness over files without libFuzzer.
 *
 * Linked into every harness when configure ran without --enable-fuzzers, so
 * that `make check` replays each seed corpus (and any crash reproducers
 * kept next to it) through the same LLVMFuzzerTestOneInput, under ASan and
 * UBSan when those are enabled. Arguments are files or directories.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_INPUT (4u * 1024u * 1024u)

static int
run_file(const char *path, unsigned long *count)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL) {
		fprintf(
		    stderr, "fuzz-standalone: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if ((buf = malloc(FUZZ_MAX_INPUT)) == NULL) {
		fclose(f);
		return 1;
	}
	n = fread(buf, 1, FUZZ_MAX_INPUT, f);
	fclose(f);
	/* Copy to an exact-size allocation so ASan sees reads past the end. */
	{
		uint8_t *exact = malloc(n > 0 ? n : 1);

		if (exact == NULL) {
			free(buf);
			return 1;
		}
		memcpy(exact, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(exact, n);
		free(exact);
	}
	(*count)++;
	return 0;
}

static int
run_path(const char *path, unsigned long *count)
{
	struct stat st;
	DIR *d;
	struct dirent *e;
	char child[4096];
	int bad = 0;

	if (stat(path, &st) != 0) {
		fprintf(
		    stderr, "fuzz-standalone: %s: %s\n", path, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, count);
	if ((d = opendir(path)) == NULL)
		return 1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(child, sizeof(child), "%s/%s", path, e->d_name);
		bad |= run_path(child, count);
	}
	closedir(d);
	return bad;
}

int
main(int argc, char **argv)
{
	unsigned long count = 0;
	int i, bad = 0;

	for (i = 1; i < argc; i++) {
		if (argv[i][0] == '-')
			continue; /* libFuzzer options such as -runs=0 */
		bad |= run_path(argv[i], &count);
	}
	/* An empty corpus is a broken test, not a pass. */
	if (count == 0) {
		fprintf(stderr, "fuzz-standalone: no inputs found\n");
		return 1;
	}
	printf("%s: %lu inputs replayed\n", argv[0], count);
	return bad;
}
