/*
 * fuzz_policy.c: the policy loader over arbitrary text, then the evaluator
 * over whatever loads. Checks the loader's contract: it either returns a
 * policy and no errors, or no policy and at least one error line of the
 * form "NAME:LINE: ...".
 *
 * '@' is replaced so that inputs cannot @include files, and CA/CRL files
 * are not opened (skip_pki_files): the harness reads nothing but the tz
 * database.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5's parser leaks the string tokens it holds when a syntax
 * error follows them (its grammar has no %destructor): 'a = 1; b "x"'
 * loses 64 bytes. Not ours to fix here; LeakSanitizer ignores allocations
 * made inside libconfig (our own allocations never have a libconfig frame
 * on their stack, so leaks in our code still stop the fuzzer).
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libconfig.so\n";
}

#define FUZZ_MAX (64 * 1024)

static void
evaluate_all(const struct policy *p)
{
	static const char *const groups[] = { "staff", "oncall", "admins",
		"ems" };
	static const char *const addrs[] = { "192.0.2.10", "198.51.100.7",
		"2001:db8:1::5", "10.0.0.1" };
	static const int64_t times[] = { 0, 1795219200LL, 1772953200LL,
		1793512800LL, 4102444800LL };
	struct policy_request req;
	struct policy_decision d;
	struct vdi_addr a;
	char kv[1024];
	size_t t, m, i;

	for (t = 0; t < p->ntenants && t < 4; t++) {
		for (m = 0; m <= p->nmodes && m < 4; m++) {
			for (i = 0; i < 4; i++) {
				memset(&req, 0, sizeof(req));
				req.tenant = p->tenants[t].name;
				req.user = "u";
				req.groups = groups;
				req.ngroups = i + 1;
				req.device_class = p->tenants[t].nclasses > 0
				    ? p->tenants[t]
					  .classes[i % p->tenants[t].nclasses]
				    : "x";
				if (vdi_addr_parse(addrs[i], &a) != 0)
					abort();
				req.from = &a;
				req.now = times[(t + m + i) % 5];
				req.mode = m == 0 ? NULL : p->modes[m - 1].name;
				if (policy_evaluate(p, &req, &d, NULL, NULL) !=
				    0)
					abort();
				if (d.verdict == POLICY_ALLOW &&
				    (d.npools == 0 || d.rule == NULL ||
					!(d.channels & POLICY_CH_DISPLAY)))
					abort();
				if (d.verdict == POLICY_DENY && d.npools != 0)
					abort();
				if (policy_decision_format_kv(
					&d, kv, sizeof(kv)) != 0 &&
				    strlen(kv) != sizeof(kv) - 1)
					abort();
			}
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct policy_load_opts opts = { NULL, 1 };
	struct policy *p = NULL;
	struct policy_errors e;
	char *text;
	size_t i;
	int r;

	if (size > FUZZ_MAX)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	for (i = 0; i < size; i++)
		text[i] = data[i] == '@' ? ' ' : (char)data[i];
	text[size] = '\0';
	r = policy_load_string(
	    text, "fuzz.conf", "/nonexistent", &opts, &p, &e);
	if (r == 0) {
		if (p == NULL || e.count != 0 || e.text != NULL)
			abort();
		evaluate_all(p);
		policy_unref(p);
	} else {
		if (p != NULL)
			abort();
		if (r == VDI_ERR_CONFIG &&
		    (e.count == 0 || e.text == NULL ||
			strncmp(e.text, "fuzz.conf", 9) != 0))
			abort();
	}
	policy_errors_clear(&e);
	free(text);
	return 0;
}
