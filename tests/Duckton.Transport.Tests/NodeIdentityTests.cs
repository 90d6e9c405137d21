using System.Text;
using Duckton.Core.Crypto;
using Duckton.Core.Hashing;

namespace Duckton.Transport.Tests;

public sealed class NodeIdentityTests
{
    [Fact]
    public void Identity_is_persisted_and_reloaded_with_the_same_id()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("cfg");
        string id;
        byte[] publicKey;
        using (var first = NodeIdentity.LoadOrCreate(dir))
        {
            id = first.NodeId;
            publicKey = first.PublicKey.ToArray();
            Assert.Equal(Path.Combine(dir, "node_key"), first.KeyPath);
        }
        using var second = NodeIdentity.LoadOrCreate(dir);
        Assert.Equal(id, second.NodeId);
        Assert.Equal(publicKey, second.PublicKey.ToArray());
        var text = File.ReadAllText(Path.Combine(dir, "node_key"));
        Assert.Matches("^[0-9a-f]{64}\n$", text);
    }

    [Fact]
    public void Key_file_is_0600_in_a_0700_directory()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix only
        }
        using var temp = new TempDir();
        var dir = temp.Combine("cfg");
        using var identity = NodeIdentity.LoadOrCreate(dir);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(dir, "node_key")));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(dir));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp", SearchOption.AllDirectories));
    }

    [Fact]
    public void A_world_readable_key_is_refused_not_replaced()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix only
        }
        using var temp = new TempDir();
        var dir = temp.Combine("cfg");
        string id;
        using (var identity = NodeIdentity.LoadOrCreate(dir))
        {
            id = identity.NodeId;
        }
        var path = Path.Combine(dir, "node_key");
        var before = File.ReadAllBytes(path);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        var ex = Assert.Throws<NodeIdentityException>(() => NodeIdentity.LoadOrCreate(dir));
        Assert.Contains("0644", ex.Message, StringComparison.Ordinal);
        Assert.Contains("chmod 600", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(path));
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using var again = NodeIdentity.LoadOrCreate(dir);
        Assert.Equal(id, again.NodeId);
    }

    [Theory]
    [InlineData("not a key")]
    [InlineData("0123456789abcdef")]
    [InlineData("zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")]
    public void A_corrupt_key_is_a_clear_error_and_is_left_alone(string content)
    {
        using var temp = new TempDir();
        var path = temp.Combine("node_key");
        File.WriteAllText(path, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        var ex = Assert.Throws<NodeIdentityException>(() => NodeIdentity.LoadOrCreate(temp.Path));
        Assert.Contains("corrupt", ex.Message, StringComparison.Ordinal);
        Assert.Equal(content, File.ReadAllText(path));
    }

    [Fact]
    public void A_raw_32_byte_seed_and_an_uppercase_hex_seed_are_accepted()
    {
        var seed = Enumerable.Range(1, 32).Select(i => (byte)(i * 7)).ToArray();
        using var expected = NodeIdentity.FromSeed(seed);
        foreach (var content in new[] { seed, Encoding.ASCII.GetBytes(Convert.ToHexString(seed) + "\r\n") })
        {
            using var temp = new TempDir();
            var path = temp.Combine("node_key");
            File.WriteAllBytes(path, content);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            using var loaded = NodeIdentity.LoadOrCreate(temp.Path);
            Assert.Equal(expected.NodeId, loaded.NodeId);
        }
    }

    [Fact]
    public void A_symlinked_key_is_refused()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix only
        }
        using var temp = new TempDir();
        var target = temp.Combine("elsewhere");
        File.WriteAllText(target, new string('a', 64));
        File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.CreateSymbolicLink(temp.Combine("node_key"), target);
        var ex = Assert.Throws<NodeIdentityException>(() => NodeIdentity.LoadOrCreate(temp.Path));
        Assert.Contains("symbolic link", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Concurrent_first_starts_agree_on_one_key()
    {
        using var temp = new TempDir();
        var dir = temp.Combine("cfg");
        var ids = new string[8];
        Parallel.For(0, ids.Length, i =>
        {
            using var identity = NodeIdentity.LoadOrCreate(dir);
            ids[i] = identity.NodeId;
        });
        Assert.Single(ids.Distinct());
    }

    [Fact]
    public void Node_id_is_b3_prefix_and_lowercase_blake3_hex_of_the_public_key()
    {
        using var identity = NodeIdentity.Create();
        var expected = "b3:" + Convert.ToHexStringLower(Blake3.Hash(identity.PublicKey.Span));
        Assert.Equal(expected, identity.NodeId);
        Assert.Equal(expected, NodeIdentity.NodeIdOf(identity.PublicKey.Span));
        Assert.Equal(67, identity.NodeId.Length);
        Assert.True(NodeIdentity.IsValidNodeId(identity.NodeId));
        Assert.False(NodeIdentity.IsValidNodeId(identity.NodeId.ToUpperInvariant()));
        Assert.False(NodeIdentity.IsValidNodeId(identity.NodeId[..66]));
        Assert.False(NodeIdentity.IsValidNodeId("b4" + identity.NodeId[2..]));
        Assert.False(NodeIdentity.IsValidNodeId(null));
        Assert.Throws<ArgumentException>(() => NodeIdentity.NodeIdOf(new byte[31]));
    }

    [Fact]
    public void Verify_checks_both_the_id_and_the_signature()
    {
        using var a = NodeIdentity.Create();
        using var b = NodeIdentity.Create();
        var message = "receipt"u8.ToArray();
        var signature = a.Sign(message);
        Assert.Equal(Ed25519Key.SignatureLength, signature.Length);
        Assert.True(NodeIdentity.Verify(a.NodeId, a.PublicKey.Span, message, signature));
        Assert.False(NodeIdentity.Verify(b.NodeId, a.PublicKey.Span, message, signature)); // id of another key
        Assert.False(NodeIdentity.Verify(a.NodeId, b.PublicKey.Span, message, signature)); // key swapped
        Assert.False(NodeIdentity.Verify(a.NodeId, a.PublicKey.Span, "receipT"u8, signature));
        signature[10] ^= 1;
        Assert.False(NodeIdentity.Verify(a.NodeId, a.PublicKey.Span, message, signature));
    }
}
