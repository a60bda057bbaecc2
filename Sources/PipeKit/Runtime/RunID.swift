/// Run ids: sortable by start time, short enough to type (`20261121-061502-3f9a`).
public enum RunID {
    public static func generate() -> String {
        "\(WallClock.now().compact)-\(TraceIDs.randomHex(bytes: 2))"
    }
}
