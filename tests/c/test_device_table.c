/* test_device_table.c - measured sigma(G) tables from files (src/device_table.c):
 * JSON, text and CSV give the same option text; bad files are refused by name;
 * the text sets the measured model through prime_device_set_option. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "device_opts.h"
#include "device_table.h"
#include "prime.h"

static char *conv(const char *s) {
    char *t = NULL;
    if (prime_device_table_text((const uint8_t *)s, strlen(s), "t", &t) != 0) return NULL;
    return t;
}

int main(void) {
    const char *forms[] = {"[[10, 0.8], [30, 1.6], [60, 2.1]]", "10:0.8,30:1.6,60:2.1",
                           "# G, sigma (uS)\n10,0.8\r\n30 , 1.6\n60\t2.1\n"};
    for (int i = 0; i < 3; i++) {
        char *t = conv(forms[i]);
        CHECK(t && strcmp(t, "10:0.800000012,30:1.60000002,60:2.0999999") == 0, "form %d -> %s", i,
              t ? t : prime_last_error());
        free(t);
    }
    char *t = NULL;
    CHECK(!conv("[[10, 0.8], [30]]") && strstr(prime_last_error(), "3 numbers"), "odd count refused: %s",
          prime_last_error());
    CHECK(!conv("10,0.8\nabc,1\n") && strstr(prime_last_error(), "line 2"), "a word refused with its line: %s",
          prime_last_error());
    CHECK(!conv("") && strstr(prime_last_error(), "no (G, sigma)"), "empty refused");
    const char nul[] = {'1', '0', '\0', ',', '5'};
    CHECK(prime_device_table_text((const uint8_t *)nul, sizeof nul, "t", &t) == -1 && strstr(prime_last_error(), "NUL"),
          "a NUL byte refused (strchr would match the terminator): %s", prime_last_error());
    char big[2048] = "";
    for (int i = 0; i < 17; i++) sprintf(big + strlen(big), "%d,1\n", 10 + i);
    CHECK(!conv(big) && strstr(prime_last_error(), "more than 16"), "17 points refused: %s", prime_last_error());
    const uint8_t zip[] = {'P', 'K', 3, 4, 0, 0};
    CHECK(prime_device_table_text(zip, sizeof zip, "x.npz", &t) == -1 && strstr(prime_last_error(), "x.npz"),
          "a broken .npz refused by name: %s", prime_last_error());
    CHECK(prime_device_table_text(NULL, 0, "t", NULL) == -1, "NULL output refused");

    /* the text drives the measured model */
    prime_device d = prime_default_device();
    prime_devfx_params fx = prime_devfx_default();
    t = conv("[[10, 0.8], [30, 1.6], [60, 2.1]]");
    char opt[256];
    snprintf(opt, sizeof opt, "read_table=%s", t ? t : "");
    free(t);
    CHECK_INT(prime_device_set_option(&d, &fx, opt), 0, "read_table accepted");
    CHECK(fx.read.measured.kind == PRIME_SIGMA_TABLE && fx.read.measured.n == 3, "3-point table set");
    CHECK_NEAR(prime_fx_sigma(&fx.read.measured, 20.0), 1.2, 1e-6, "sigma(20 uS) interpolates 0.8..1.6");
    /* decreasing G: the option checks refuse it (nothing changed) */
    t = conv("30,1\n10,1");
    snprintf(opt, sizeof opt, "read_table=%s", t ? t : "");
    free(t);
    CHECK(prime_device_set_option(&d, &fx, opt) == -1 && fx.read.measured.n == 3,
          "a table with G decreasing refused, the old one kept: %s", prime_last_error());
    return check_summary();
}
