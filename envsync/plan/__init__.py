"""Planning: desired specs × observed workspace state → a Plan."""
