using System.Text;

namespace Quill.Compat.Tests.ZooKeeper;

/// <summary>A unified-style diff of two line lists, for failure messages (longest common subsequence; the inputs are
/// a few hundred lines).</summary>
public static class LineDiff
{
    public static string Format(IReadOnlyList<string> expected, IReadOnlyList<string> actual,
        string expectedName = "expected", string actualName = "actual", int context = 2)
    {
        int n = expected.Count, m = actual.Count;
        var common = new int[n + 1, m + 1];
        for (int i = n - 1; i >= 0; i--)
            for (int j = m - 1; j >= 0; j--)
                common[i, j] = expected[i] == actual[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);

        // Walk the table into (kind, text) entries: ' ' same, '-' only expected, '+' only actual.
        var entries = new List<(char Kind, string Text)>();
        int a = 0, b = 0;
        while (a < n || b < m)
        {
            if (a < n && b < m && expected[a] == actual[b]) { entries.Add((' ', expected[a])); a++; b++; }
            else if (a < n && (b == m || common[a + 1, b] >= common[a, b + 1])) entries.Add(('-', expected[a++]));
            else entries.Add(('+', actual[b++]));
        }

        // Show every change with `context` unchanged lines around it; "..." marks what is left out.
        var shown = new bool[entries.Count];
        for (int k = 0; k < entries.Count; k++)
        {
            if (entries[k].Kind == ' ') continue;
            for (int c = Math.Max(0, k - context); c <= Math.Min(entries.Count - 1, k + context); c++) shown[c] = true;
        }
        var output = new StringBuilder($"--- {expectedName}\n+++ {actualName}\n");
        for (int k = 0; k < entries.Count; k++)
        {
            if (!shown[k]) continue;
            if (k > 0 && !shown[k - 1]) output.AppendLine("...");
            output.AppendLine($"{entries[k].Kind} {entries[k].Text}");
        }
        return output.ToString();
    }
}
