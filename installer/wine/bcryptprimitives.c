/* Stand-in for Windows' bcryptprimitives.dll, which Wine 8.0 lacks (built into the Wine prefix
 * by installer/windows-on-wine.sh; never part of the bundle or the installer).
 *
 * cryptography's Rust module (via Rust's std) imports ProcessPrng, the system's random byte
 * source since Windows 10. Here it forwards to BCryptGenRandom, which Wine implements. */
#include <windows.h>
#include <bcrypt.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size > 0) {
        ULONG chunk = size > 0x10000000 ? 0x10000000 : (ULONG)size;
        if (BCryptGenRandom(NULL, data, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG) != 0)
            return FALSE;
        data += chunk;
        size -= chunk;
    }
    return TRUE; /* Windows documents that it always succeeds */
}
