"""The planner: enumerate instance type x TP x PP, reject what the engine would reject, size replicas, cost purchase
options."""
