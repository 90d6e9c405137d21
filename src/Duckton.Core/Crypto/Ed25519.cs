using System.Security.Cryptography;

namespace Duckton.Core.Crypto;

/// <summary>An Ed25519 signing key (libsodium), created from a 32-byte seed. The seed is the secret to persist.</summary>
public sealed unsafe class Ed25519Key : IDisposable
{
    public const int SeedLength = 32;
    public const int PublicKeyLength = 32;
    public const int SignatureLength = 64;
    private const int SecretKeyLength = 64;

    private readonly byte[] _secretKey = new byte[SecretKeyLength];
    private readonly byte[] _publicKey = new byte[PublicKeyLength];

    private Ed25519Key(ReadOnlySpan<byte> seed)
    {
        if (seed.Length != SeedLength)
        {
            throw new ArgumentException($"an Ed25519 seed is {SeedLength} bytes, got {seed.Length}", nameof(seed));
        }
        Sodium.EnsureInitialized();
        fixed (byte* pk = _publicKey)
        fixed (byte* sk = _secretKey)
        fixed (byte* s = seed)
        {
            if (Sodium.crypto_sign_seed_keypair(pk, sk, s) != 0)
            {
                throw new CryptographicException("crypto_sign_seed_keypair failed");
            }
        }
    }

    public static Ed25519Key Generate()
    {
        Span<byte> seed = stackalloc byte[SeedLength];
        RandomNumberGenerator.Fill(seed);
        try
        {
            return new Ed25519Key(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    public static Ed25519Key FromSeed(ReadOnlySpan<byte> seed) => new(seed);

    public ReadOnlySpan<byte> PublicKey => _publicKey;

    /// <summary>The 32-byte seed (libsodium keeps it as the first half of the secret key).</summary>
    public ReadOnlySpan<byte> Seed => _secretKey.AsSpan(0, SeedLength);

    public byte[] Sign(ReadOnlySpan<byte> message)
    {
        var signature = new byte[SignatureLength];
        Sign(message, signature);
        return signature;
    }

    public void Sign(ReadOnlySpan<byte> message, Span<byte> signature)
    {
        if (signature.Length < SignatureLength)
        {
            throw new ArgumentException("signature buffer too small", nameof(signature));
        }
        fixed (byte* sig = signature)
        fixed (byte* m = message)
        fixed (byte* sk = _secretKey)
        {
            ulong len;
            if (Sodium.crypto_sign_detached(sig, &len, m, (ulong)message.Length, sk) != 0)
            {
                throw new CryptographicException("crypto_sign_detached failed");
            }
        }
    }

    /// <summary>True when <paramref name="signature"/> is a valid Ed25519 signature of <paramref name="message"/> by <paramref name="publicKey"/>.</summary>
    public static bool Verify(ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature)
    {
        if (publicKey.Length != PublicKeyLength || signature.Length != SignatureLength)
        {
            return false;
        }
        Sodium.EnsureInitialized();
        fixed (byte* pk = publicKey)
        fixed (byte* m = message)
        fixed (byte* sig = signature)
        {
            return Sodium.crypto_sign_verify_detached(sig, m, (ulong)message.Length, pk) == 0;
        }
    }

    public void Dispose() => CryptographicOperations.ZeroMemory(_secretKey);
}
