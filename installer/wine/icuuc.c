/* Stand-in for icuuc.dll (the ICU that ships with Windows 10 1903+), which Wine 8.0 lacks
 * (built into the Wine prefix by installer/windows-on-wine.sh; never part of the bundle or the
 * installer).
 *
 * Qt6Core >= 6.10 imports ICU's ucnv_* converter API for QStringConverter's legacy codecs. The
 * app only uses UTF-8 and UTF-16, which Qt converts itself. Here every converter is
 * "not available": ucnv_open fails with an ICU error code and the list of converters is empty,
 * so Qt reports the codec as unsupported instead of crashing. Nothing else is ever called, as
 * no converter is ever opened. */
#include <stddef.h>
#include <stdint.h>

typedef int UErrorCode; /* > 0 is a failure */
#define U_FILE_ACCESS_ERROR 4

static void fail(UErrorCode *err)
{
    if (err && *err <= 0)
        *err = U_FILE_ACCESS_ERROR;
}

void *ucnv_open(const char *name, UErrorCode *err) { (void)name; fail(err); return NULL; }
void ucnv_close(void *cnv) { (void)cnv; }
void ucnv_reset(void *cnv) { (void)cnv; }
int8_t ucnv_getMaxCharSize(const void *cnv) { (void)cnv; return 1; }
const char *ucnv_getName(const void *cnv, UErrorCode *err) { (void)cnv; fail(err); return NULL; }
int32_t ucnv_countAvailable(void) { return 0; }
const char *ucnv_getAvailableName(int32_t n) { (void)n; return NULL; }
const char *ucnv_getStandardName(const char *name, const char *standard, UErrorCode *err)
{
    (void)name; (void)standard; fail(err); return NULL;
}
void ucnv_getToUCallBack(const void *cnv, void **action, const void **context)
{
    (void)cnv; if (action) *action = NULL; if (context) *context = NULL;
}
void ucnv_getFromUCallBack(const void *cnv, void **action, const void **context)
{
    (void)cnv; if (action) *action = NULL; if (context) *context = NULL;
}
void ucnv_setToUCallBack(void *cnv, void *action, const void *context, void **old_action,
                         const void **old_context, UErrorCode *err)
{
    (void)cnv; (void)action; (void)context; (void)old_action; (void)old_context; fail(err);
}
void ucnv_setFromUCallBack(void *cnv, void *action, const void *context, void **old_action,
                           const void **old_context, UErrorCode *err)
{
    (void)cnv; (void)action; (void)context; (void)old_action; (void)old_context; fail(err);
}
void ucnv_toUnicode(void *cnv, void **target, const void *target_limit, const char **source,
                    const char *source_limit, int32_t *offsets, int8_t flush, UErrorCode *err)
{
    (void)cnv; (void)target; (void)target_limit; (void)source; (void)source_limit;
    (void)offsets; (void)flush; fail(err);
}
void ucnv_fromUnicode(void *cnv, char **target, const char *target_limit, const void **source,
                      const void *source_limit, int32_t *offsets, int8_t flush, UErrorCode *err)
{
    (void)cnv; (void)target; (void)target_limit; (void)source; (void)source_limit;
    (void)offsets; (void)flush; fail(err);
}
int32_t ucnv_toUCountPending(const void *cnv, UErrorCode *err) { (void)cnv; fail(err); return 0; }
int32_t ucnv_fromUCountPending(const void *cnv, UErrorCode *err) { (void)cnv; fail(err); return 0; }
void ucnv_cbToUWriteUChars(void *args, const void *source, int32_t length, int32_t offset,
                           UErrorCode *err)
{
    (void)args; (void)source; (void)length; (void)offset; fail(err);
}
void ucnv_cbFromUWriteUChars(void *args, const void **source, const void *source_limit,
                             int32_t offset, UErrorCode *err)
{
    (void)args; (void)source; (void)source_limit; (void)offset; fail(err);
}
/* The "substitute" error callbacks: only ever installed on an open converter. */
void UCNV_FROM_U_CALLBACK_SUBSTITUTE(const void *context, void *args, const void *code_units,
                                     int32_t length, int32_t code_point, int reason,
                                     UErrorCode *err)
{
    (void)context; (void)args; (void)code_units; (void)length; (void)code_point; (void)reason;
    fail(err);
}
void UCNV_TO_U_CALLBACK_SUBSTITUTE(const void *context, void *args, const char *code_units,
                                   int32_t length, int reason, UErrorCode *err)
{
    (void)context; (void)args; (void)code_units; (void)length; (void)reason; fail(err);
}
