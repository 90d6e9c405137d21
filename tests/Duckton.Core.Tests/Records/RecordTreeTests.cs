using System.Diagnostics;
using System.Text.Json.Nodes;
using Duckton.Core.Hashing;
using Duckton.Core.Records;
using FsCheck;
using FsCheck.Fluent;

namespace Duckton.Core.Tests.Records;

/// <summary>
/// Job-record leaves, epoch trees and inclusion proofs: properties over random epochs (FsCheck drives sizes and seeds),
/// and agreement with tools/job_proof_reference.py, written from docs/PROTOCOL.md alone.
/// </summary>
public class RecordTreeTests
{
    private static readonly Config s_config = Config.QuickThrowOnFailure.WithMaxTest(60).WithQuietOnSuccess(true);

    private static JobRecord Record(Random rng, int i, uint epoch) => new(
        $"{rng.Next():x8}-{i}", Convert.ToHexStringLower(Blake3.Hash(BitConverter.GetBytes(rng.Next()))), $"result-{rng.Next()}-ü",
        Blake3.Hash(BitConverter.GetBytes(rng.NextInt64())), "b3:" + new string('a', 64), "b3:" + Convert.ToHexStringLower(Blake3.Hash([(byte)i])), epoch);

    private static List<JobRecord> Epoch(int seed, int count)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, count).Select(i => Record(rng, i, (uint)rng.Next(1, 1000))).Select(r => r with { Epoch = 7 }).ToList();
    }

    private static JobProof ProofOf(List<JobRecord> records, int index)
    {
        var (root, path) = RecordTree.Prove(records.Select(r => r.Leaf()).ToList(), index);
        return new JobProof(records[index], index, records.Count, path, root, index % 2 == 0 ? null : new AnchorReference("local", "0:" + new string('b', 64), new string('c', 64)));
    }

    private static Arbitrary<(int Seed, int Count)> Epochs =>
        (from count in Gen.Choose(1, 70)
         from seed in Gen.Choose(0, int.MaxValue)
         select (seed, count)).ToArbitrary();

    [Fact]
    public void Every_leafs_proof_verifies_through_its_json_document()
    {
        Check.One(s_config, Prop.ForAll(Epochs, e =>
        {
            var records = Epoch(e.Seed, e.Count);
            var root = RecordTree.Root(records.Select(r => r.Leaf()).ToList());
            for (var i = 0; i < records.Count; i++)
            {
                var proof = ProofOf(records, i);
                Assert.Equal(root, proof.Root);
                Assert.True(proof.Path.Count <= (int)Math.Ceiling(Math.Log2(Math.Max(2, records.Count))));
                var (problem, parsed) = JobProof.Verify(proof.ToJson());
                Assert.Null(problem);
                Assert.Equal(proof.Anchor, parsed!.Anchor);
            }
        }));
    }

    [Fact]
    public void Any_bit_flip_in_the_leaf_a_sibling_or_the_root_fails()
    {
        Check.One(s_config, Prop.ForAll(Epochs, e =>
        {
            var records = Epoch(e.Seed, e.Count);
            var rng = new Random(e.Seed);
            var index = rng.Next(records.Count);
            var proof = ProofOf(records, index);
            var leaf = records[index].Leaf();
            for (var bit = 0; bit < 256; bit += 1 + rng.Next(8))
            {
                Assert.NotEqual(proof.Root, RecordTree.Fold(Flip(leaf, bit), proof.Path));
                Assert.NotNull((proof with { Root = Flip(proof.Root, bit) }).Problem());
                Assert.NotNull((proof with { Record = proof.Record with { CertificateHash = Flip(proof.Record.CertificateHash, bit) } }).Problem());
                for (var s = 0; s < proof.Path.Count; s++)
                {
                    var path = proof.Path.Select((p, j) => j == s ? p with { Sibling = Flip(p.Sibling, bit) } : p).ToList();
                    Assert.NotNull((proof with { Path = path }).Problem());
                }
            }
            // A flipped side, another epoch number, another text field: each fails.
            for (var s = 0; s < proof.Path.Count; s++)
            {
                Assert.NotNull((proof with { Path = proof.Path.Select((p, j) => j == s ? p with { SiblingIsLeft = !p.SiblingIsLeft } : p).ToList() }).Problem());
            }
            Assert.NotNull((proof with { Record = proof.Record with { Epoch = proof.Record.Epoch + 1 } }).Problem());
            Assert.NotNull((proof with { Record = proof.Record with { Winner = proof.Record.Winner + "0" } }).Problem());
            Assert.NotNull((proof with { Record = proof.Record with { ResultHash = proof.Record.ResultHash[..^1] } }).Problem());
            // The same path claimed for any other position in the tree does not pass either.
            for (var other = 0; other < records.Count; other++)
            {
                if (other != index)
                {
                    Assert.NotNull((proof with { Index = other }).Problem());
                }
            }
        }));
    }

    [Fact]
    public void The_tree_shape_is_the_documented_one()
    {
        byte[] L(int i) => Blake3.Hash([(byte)i]);
        var leaves = Enumerable.Range(0, 5).Select(L).ToList();
        // ((0,1),(2,3)) then 4 promoted twice: root = node(node(node(l0,l1), node(l2,l3)), leafnode(l4)).
        var n01 = RecordTree.InteriorNode(RecordTree.LeafNode(L(0)), RecordTree.LeafNode(L(1)));
        var n23 = RecordTree.InteriorNode(RecordTree.LeafNode(L(2)), RecordTree.LeafNode(L(3)));
        Assert.Equal(RecordTree.InteriorNode(RecordTree.InteriorNode(n01, n23), RecordTree.LeafNode(L(4))), RecordTree.Root(leaves));
        var (_, proof4) = RecordTree.Prove(leaves, 4);
        Assert.Equal([new ProofStep(true, RecordTree.InteriorNode(n01, n23))], proof4, new StepComparer());
        Assert.Equal(RecordTree.LeafNode(L(9)), RecordTree.Root([L(9)]));
        Assert.Throws<ArgumentException>(() => RecordTree.Root([]));
        Assert.Equal(System.Security.Cryptography.SHA256.HashData([0x00, 0x40, .. L(9)]), RecordTree.LeafNode(L(9)));
    }

    [Fact]
    public void The_worked_example_of_PROTOCOL_md_holds()
    {
        var record = new JobRecord("job-1", "q", "h", new byte[32], "b3:" + new string('a', 64), "b3:" + new string('b', 64), 1);
        Assert.Equal("581c50073e23a4788e2bb1b113859d8d65b48fa03117e6c17bbc886adc343d56", Convert.ToHexStringLower(record.Leaf()));
        Assert.Equal("63dca600cdab5daf78282def4c30431054991b75b0b8373b5ef8fc0c823dc8a9", Convert.ToHexStringLower(RecordTree.LeafNode(record.Leaf())));
        var leaves = new List<byte[]> { record.Leaf(), Blake3.Hash([2]), Blake3.Hash([3]) };
        var (root, path) = RecordTree.Prove(leaves, 0);
        Assert.Equal("887cf49c4359cad874b2b3b324b86f0a51c852bce27471fa992bb86d6ecc523d", Convert.ToHexStringLower(root));
        Assert.Equal(["right 07f41b5b286d7fdaa092e70b24b41f6b2e62015c3e1311e6fee1408d08003f62", "right b86086ac8a72f4cc8f7aac06aba2b43210a603d280c1adb077700e51eb3a3b2b"],
            path.Select(p => (p.SiblingIsLeft ? "left " : "right ") + Convert.ToHexStringLower(p.Sibling)));
        var (_, path2) = RecordTree.Prove(leaves, 2);
        Assert.True(Assert.Single(path2).SiblingIsLeft);
    }

    [Fact]
    public void Malformed_documents_are_refused_with_a_reason()
    {
        var records = Epoch(5, 6);
        var json = ProofOf(records, 3).ToJson();
        Assert.Contains("not JSON", JobProof.Verify("{").Problem);
        Assert.Contains("format", JobProof.Verify("{\"format\":\"other\"}").Problem);
        var doc = JsonNode.Parse(json)!.AsObject();
        doc["record"]!["job_id"] = "another";
        Assert.Equal("the stated leaf is not the hash of the record", JobProof.Verify(doc.ToJsonString()).Problem);
        doc = JsonNode.Parse(json)!.AsObject();
        doc["index"] = 9;
        Assert.Contains("not within a tree of 6 leaves", JobProof.Verify(doc.ToJsonString()).Problem);
        doc = JsonNode.Parse(json)!.AsObject();
        doc["path"]!.AsArray().RemoveAt(0);
        Assert.Contains("needs", JobProof.Verify(doc.ToJsonString()).Problem);
        doc = JsonNode.Parse(json)!.AsObject();
        doc["root"] = "zz";
        Assert.Contains("64 hex digits", JobProof.Verify(doc.ToJsonString()).Problem);
    }

    [Fact]
    public void The_python_reference_computes_the_same_leaves_roots_and_proofs_and_reaches_the_same_verdicts()
    {
        foreach (var (seed, count) in new[] { (1, 1), (2, 2), (3, 3), (4, 5), (5, 8), (6, 13), (7, 33) })
        {
            var records = Epoch(seed, count);
            var leaves = records.Select(r => r.Leaf()).ToList();
            var first = records[0];
            var recordJson = new JsonObject
            {
                ["job_id"] = first.JobId, ["query_hash"] = first.QueryHash, ["result_hash"] = first.ResultHash,
                ["certificate_hash"] = Convert.ToHexStringLower(first.CertificateHash), ["requester"] = first.Requester, ["winner"] = first.Winner, ["epoch"] = first.Epoch,
            }.ToJsonString();
            Assert.Equal(Convert.ToHexStringLower(leaves[0]), Reference("leaf", recordJson).Output.Trim());

            var tree = JsonNode.Parse(Reference("tree", string.Join('\n', leaves.Select(Convert.ToHexStringLower))).Output)!;
            Assert.Equal(Convert.ToHexStringLower(RecordTree.Root(leaves)), (string)tree["root"]!);
            for (var i = 0; i < count; i++)
            {
                var (_, path) = RecordTree.Prove(leaves, i);
                var theirs = tree["proofs"]![i]!.AsArray();
                Assert.Equal(path.Count, theirs.Count);
                for (var s = 0; s < path.Count; s++)
                {
                    Assert.Equal(path[s].SiblingIsLeft ? "left" : "right", (string)theirs[s]!["side"]!);
                    Assert.Equal(Convert.ToHexStringLower(path[s].Sibling), (string)theirs[s]!["hash"]!);
                }
            }

            var index = seed % count;
            var proof = ProofOf(records, index);
            var ok = Reference("verify", proof.ToJson());
            Assert.Equal(0, ok.Exit);
            Assert.True((bool)JsonNode.Parse(ok.Output)!["valid"]!);
            var tampered = proof with { Root = Flip(proof.Root, 3) };
            var bad = Reference("verify", tampered.ToJson());
            Assert.Equal(1, bad.Exit);
            Assert.Equal("the path does not fold to the root", (string)JsonNode.Parse(bad.Output)!["error"]!);
            Assert.NotNull(tampered.Problem());
        }
    }

    private static (int Exit, string Output) Reference(string command, string input)
    {
        var psi = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(Repo(), "tools", "job_proof_reference.py"));
        psi.ArgumentList.Add(command);
        psi.ArgumentList.Add("-");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(input);
        p.StandardInput.Close();
        var output = p.StandardOutput.ReadToEnd();
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode is 0 or 1, error);
        return (p.ExitCode, output);
    }

    private static string Repo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Duckton.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("repository root not found");
    }

    private static byte[] Flip(byte[] b, int bit)
    {
        var c = (byte[])b.Clone();
        c[bit / 8 % c.Length] ^= (byte)(1 << (bit % 8));
        return c;
    }

    private sealed class StepComparer : IEqualityComparer<ProofStep>
    {
        public bool Equals(ProofStep? x, ProofStep? y) => x!.SiblingIsLeft == y!.SiblingIsLeft && x.Sibling.AsSpan().SequenceEqual(y.Sibling);
        public int GetHashCode(ProofStep obj) => obj.SiblingIsLeft.GetHashCode();
    }
}
