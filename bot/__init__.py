"""ccmbot: log care-management minutes from chat and bill them correctly."""
