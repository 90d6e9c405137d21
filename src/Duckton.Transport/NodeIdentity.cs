using System.Security.Cryptography;
using Duckton.Core.Crypto;
using Duckton.Core.Hashing;

namespace Duckton.Transport;

/// <summary>A node's Ed25519 identity; <c>node_id = "b3:" + hex(BLAKE3(public key))</c>.</summary>
public sealed class NodeIdentity : IDisposable
{
    private const string KeyFileName = "node.key";
    private readonly Ed25519Key _key;
    private readonly byte[] _publicKey;

    private NodeIdentity(Ed25519Key key)
    {
        _key = key;
        _publicKey = key.PublicKey.ToArray();
        NodeId = NodeIdOf(_publicKey);
    }

    /// <summary>Loads the key persisted in <paramref name="configDirectory"/>, creating it (owner-only) on first use.</summary>
    public static NodeIdentity LoadOrCreate(string configDirectory)
    {
        Directory.CreateDirectory(configDirectory);
        var path = Path.Combine(configDirectory, KeyFileName);
        if (File.Exists(path))
        {
            var seed = Convert.FromHexString(File.ReadAllText(path).Trim());
            try
            {
                return new NodeIdentity(Ed25519Key.FromSeed(seed));
            }
            finally
            {
                CryptographicOperations.ZeroMemory(seed);
            }
        }
        var key = Ed25519Key.Generate();
        var tmp = path + ".tmp-" + Environment.ProcessId;
        var fileOptions = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using (var f = new FileStream(tmp, fileOptions))
        using (var w = new StreamWriter(f))
        {
            w.Write(Convert.ToHexStringLower(key.Seed));
        }
        try
        {
            File.Move(tmp, path, overwrite: false);
        }
        catch (IOException)
        {
            // Another process created it first: use theirs.
            File.Delete(tmp);
            key.Dispose();
            return LoadOrCreate(configDirectory);
        }
        return new NodeIdentity(key);
    }

    /// <summary>A fresh, unpersisted identity.</summary>
    public static NodeIdentity Create() => new(Ed25519Key.Generate());

    public string NodeId { get; }

    public ReadOnlyMemory<byte> PublicKey => _publicKey;

    public byte[] Sign(ReadOnlySpan<byte> message) => _key.Sign(message);

    public static string NodeIdOf(ReadOnlySpan<byte> publicKey) => "b3:" + Convert.ToHexStringLower(Blake3.Hash(publicKey));

    public static bool Verify(string nodeId, ReadOnlySpan<byte> publicKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> signature) =>
        nodeId == NodeIdOf(publicKey) && Ed25519Key.Verify(publicKey, message, signature);

    public static bool IsValidNodeId(string nodeId)
    {
        if (nodeId is null || nodeId.Length != 67 || !nodeId.StartsWith("b3:", StringComparison.Ordinal))
        {
            return false;
        }
        foreach (var c in nodeId.AsSpan(3))
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }
        return true;
    }

    public void Dispose() => _key.Dispose();
}
