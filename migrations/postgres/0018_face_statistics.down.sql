drop function powergym_analyze_biometrics();
