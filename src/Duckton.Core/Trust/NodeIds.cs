using Duckton.Core.Hashing;

namespace Duckton.Core.Trust;

/// <summary>Node ids: <c>"b3:" + lowercase hex(BLAKE3(Ed25519 public key))</c>.</summary>
public static class NodeIds
{
    public const string Prefix = "b3:";

    public static string FromPublicKey(ReadOnlySpan<byte> publicKey) => Prefix + Convert.ToHexStringLower(Blake3.Hash(publicKey));

    /// <summary>True when <paramref name="publicKey"/> is an Ed25519 key whose node id is <paramref name="nodeId"/> (what signers of receipts and vouches must hold).</summary>
    public static bool IsKeyOf(ReadOnlySpan<byte> publicKey, string nodeId) =>
        publicKey.Length == Crypto.Ed25519Key.PublicKeyLength && FromPublicKey(publicKey) == nodeId;

    public static bool IsValid(string? id) =>
        id is { Length: 67 } && id.StartsWith(Prefix, StringComparison.Ordinal) && id.AsSpan(3).IndexOfAnyExcept("0123456789abcdef") < 0;
}
