"""Climate-finance pilot projects and green-power trades and certificates. Built in the green
finance issue."""
