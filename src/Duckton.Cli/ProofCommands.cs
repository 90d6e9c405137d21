using System.CommandLine;
using Duckton.Core.Records;

namespace Duckton.Cli;

/// <summary>
/// <c>duckton proof verify FILE</c>: checks a job inclusion proof (the <c>proof</c> column of <c>p2p_job_proof</c>) offline:
/// no node, no configuration, no chain. Exit 0 when it holds, 1 when it does not, 2 when the file cannot be read.
/// </summary>
internal static class ProofCommands
{
    public static Command Proof()
    {
        var file = new Argument<string>("file") { Description = "The proof document (JSON, as p2p_job_proof's proof column); - reads stdin" };
        var verify = new Command("verify", "Check a job's inclusion proof offline: the leaf is the record's hash and the path folds to the epoch root");
        verify.Arguments.Add(file);
        verify.SetAction(parse => Verify(parse.GetValue(file)!));
        var proof = new Command("proof", "Inclusion proofs of anchored job records");
        proof.Subcommands.Add(verify);
        return proof;
    }

    private static int Verify(string file)
    {
        string text;
        try
        {
            if (file == "-")
            {
                text = Console.In.ReadToEnd();
            }
            else
            {
                if (new FileInfo(file) is { Exists: true } info && info.Length > JobProof.MaxDocumentBytes)
                {
                    Console.Error.WriteLine($"Error: {file} is larger than a proof can be ({JobProof.MaxDocumentBytes} bytes)");
                    return 2;
                }
                text = File.ReadAllText(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"Error: cannot read {file}: {e.Message}");
            return 2;
        }
        var (problem, proof) = JobProof.Verify(text);
        if (problem is not null)
        {
            Console.WriteLine($"invalid: {problem}");
            return 1;
        }
        var anchor = proof!.Anchor is { } a ? $"; anchored on {a.Network} at {a.Address}, tx {a.TransactionHash} (as the proof states; check on chain)" : "; not anchored";
        Console.WriteLine($"valid: job {proof.Record.JobId} is leaf {proof.Index} of {proof.LeafCount} in epoch {proof.Record.Epoch}, root {Convert.ToHexStringLower(proof.Root)}{anchor}");
        return 0;
    }
}
