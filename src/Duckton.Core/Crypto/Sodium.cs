using System.Runtime.InteropServices;

namespace Duckton.Core.Crypto;

/// <summary>
/// The libsodium entry points we use (.NET has no Ed25519). Debian ships it as <c>libsodium.so.23</c> with no
/// unversioned symlink, so that exact name is loaded first.
/// </summary>
internal static partial class Sodium
{
    private const string Library = "libsodium";

    static Sodium()
    {
        NativeLibrary.SetDllImportResolver(typeof(Sodium).Assembly, static (name, assembly, path) =>
        {
            if (name != Library)
            {
                return 0;
            }
            foreach (var candidate in new[] { "libsodium.so.23", "libsodium.so.26", "libsodium.so", "libsodium.dylib", "libsodium" })
            {
                if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
                {
                    return handle;
                }
            }
            return 0;
        });
        if (sodium_init() < 0)
        {
            throw new InvalidOperationException("libsodium could not be initialised");
        }
    }

    /// <summary>Forces the static constructor (library load and sodium_init) to run.</summary>
    public static void EnsureInitialized()
    {
    }

    [LibraryImport(Library)]
    private static partial int sodium_init();

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_sign_seed_keypair(byte* publicKey, byte* secretKey, byte* seed);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_sign_detached(byte* signature, ulong* signatureLength, byte* message, ulong messageLength, byte* secretKey);

    [LibraryImport(Library)]
    internal static unsafe partial int crypto_sign_verify_detached(byte* signature, byte* message, ulong messageLength, byte* publicKey);

    [LibraryImport(Library)]
    internal static unsafe partial void sodium_memzero(byte* buffer, nuint length);
}
