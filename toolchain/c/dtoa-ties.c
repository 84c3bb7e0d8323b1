/* ---- Inserted by the gpu-market toolchain (toolchain/c/dtoa-ties.c). JS rounds exact
   ties away from zero; stock QuickJS asks printf to round down/up (FE_DOWNWARD/FE_UPWARD)
   to find them, but WebAssembly only rounds to nearest. Instead: print every digit (a
   double has at most 767 significant and 1074 fractional digits), and when the cut is
   an exact tie, round the magnitude up by hand. ---- */
#define JS_DTOA_EXACT_DIGITS 800
#define JS_DTOA_EXACT_FRAC_DIGITS 1100
#define JS_DTOA_EXACT_BUF_SIZE 1200

/* Exponential form with n_digits significant digits. On an exact tie fills buf, decpt
   and sign (as js_ecvt1 does) and returns TRUE; otherwise returns FALSE. */
static BOOL js_ecvt_round_tie_away(double d, int n_digits, int *decpt, int *sign,
                                   char *buf)
{
    char full[JS_DTOA_EXACT_BUF_SIZE];
    int i;

    /* "+D.DDD...e+XX": digit k is full[1] for k = 0, else full[2 + k] */
    snprintf(full, sizeof(full), "%+.*e", JS_DTOA_EXACT_DIGITS, d);
    if (full[2 + n_digits] != '5')
        return FALSE;
    for (i = n_digits + 1; i <= JS_DTOA_EXACT_DIGITS; i++) {
        if (full[2 + i] != '0')
            return FALSE;
    }
    *sign = (full[0] == '-');
    *decpt = atoi(full + 3 + JS_DTOA_EXACT_DIGITS + 1) + 1;
    buf[0] = full[1];
    for (i = 1; i < n_digits; i++)
        buf[i] = full[2 + i];
    buf[n_digits] = '\0';
    for (i = n_digits - 1; i >= 0; i--) {
        if (buf[i] != '9') {
            buf[i]++;
            return TRUE;
        }
        buf[i] = '0';
    }
    /* all nines: 9.99 -> 1.00 with the next exponent */
    buf[0] = '1';
    (*decpt)++;
    return TRUE;
}

/* Fixed form with n_digits fractional digits. On an exact tie writes the result to buf
   (as js_fcvt1 does) and returns TRUE; otherwise returns FALSE. */
static BOOL js_fcvt_round_tie_away(char *buf, int buf_size, double d, int n_digits)
{
    char full[JS_DTOA_EXACT_BUF_SIZE];
    char *point, *p;
    int start, len, i;

    snprintf(full, sizeof(full), "%.*f", JS_DTOA_EXACT_FRAC_DIGITS, d);
    point = strchr(full, '.');
    if (!point || point[1 + n_digits] != '5')
        return FALSE;
    for (p = point + 2 + n_digits; *p != '\0'; p++) {
        if (*p != '0')
            return FALSE;
    }
    /* keep n_digits fractional digits, and no point when there are none */
    len = (int)(point - full) + (n_digits > 0 ? 1 + n_digits : 0);
    full[len] = '\0';
    start = (full[0] == '-');
    for (i = len - 1;; i--) {
        if (i < start) {
            /* all nines: 99.9 -> 100.0 */
            memmove(full + start + 1, full + start, len - start + 1);
            full[start] = '1';
            break;
        }
        if (full[i] == '.')
            continue;
        if (full[i] != '9') {
            full[i]++;
            break;
        }
        full[i] = '0';
    }
    snprintf(buf, buf_size, "%s", full);
    return TRUE;
}

